"""linear_modules: nn.Linear submodules with transformers' names, so peft LoRA works on emitted modules."""

import torch
from peft import LoraConfig, get_peft_model

from passes import linear_modules
from rewrite import load
from rewrite.graphdiff import diff, to_networkx
from tests.adapter_roundtrip import assert_adapter_loads_on_transformers
from tests.golden_files import assert_matches_golden


def test_linear_modules_golden_diff(tiny_graph, update_golden):
    before = to_networkx(tiny_graph)
    report = linear_modules.apply(tiny_graph)
    assert report.matched == report.replaced == 21  # 4 layers x (q, k, v, o, router) + lm_head
    assert isinstance(tiny_graph.get_submodule("model.layers.0.self_attn.q_proj"), torch.nn.Linear)
    assert_matches_golden("linear_modules", diff(before, tiny_graph).summary(), update_golden)


def test_lora_adapter_trained_on_ours_loads_on_the_transformers_model(full_checkpoint, tmp_path):
    model = load(full_checkpoint)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                        init_lora_weights=False)
    model.graph_module = get_peft_model(model.graph_module, config)
    assert_adapter_loads_on_transformers(model, full_checkpoint, tmp_path)
