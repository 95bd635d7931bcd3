"""linear_modules: nn.Linear submodules with transformers' names, so peft LoRA works on emitted modules."""

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import GptOssForCausalLM

from passes import linear_modules
from rewrite import build, load
from rewrite.graphdiff import diff, to_networkx
from tests.golden_files import assert_matches_golden


def test_linear_modules_golden_diff(tiny_graph, update_golden):
    before = to_networkx(tiny_graph)
    report = linear_modules.apply(tiny_graph)
    assert report.matched == report.replaced == 21  # 4 layers x (q, k, v, o, router) + lm_head
    assert isinstance(tiny_graph.get_submodule("model.layers.0.self_attn.q_proj"), torch.nn.Linear)
    assert_matches_golden("linear_modules", diff(before, tiny_graph).summary(), update_golden)


@pytest.fixture(scope="module")
def full_checkpoint(tmp_path_factory):
    return build(tmp_path_factory.mktemp("full") / "tiny", preset="tiny")


def test_lora_adapter_trained_on_ours_loads_on_the_transformers_model(full_checkpoint, tmp_path):
    model = load(full_checkpoint)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
                        init_lora_weights=False)
    model.graph_module = get_peft_model(model.graph_module, config)
    ids = torch.randint(3, 512, (2, 12))
    with torch.no_grad():
        adapted = model(ids)
        with model.graph_module.disable_adapter():
            base = model(ids)
    assert (adapted - base).abs().max() > 1e-2, "the adapter changes the output; disabling it removes it"
    model.graph_module.save_pretrained(tmp_path)
    hf = PeftModel.from_pretrained(GptOssForCausalLM.from_pretrained(full_checkpoint), tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(hf(ids).logits, adapted, atol=1e-4, rtol=0)
        with hf.disable_adapter():
            torch.testing.assert_close(hf(ids).logits, base, atol=1e-4, rtol=0)
