"""layer_modules: each decoder layer becomes a called GraphModule with transformers' parameter names, and the
model computes exactly what it computed before, emitted, loaded and generating."""

import importlib
import re

import torch
from transformers import GptOssForCausalLM

import passes
from passes import layer_modules
from rewrite import capture, load
from rewrite.capture import example_inputs
from rewrite.cli import main
from rewrite.graphdiff import diff, to_networkx
from rewrite.pipeline import run_pipeline
from rewrite.spec import graph_spec
from runtime.generate import generate
from tests.golden_files import assert_matches_golden


def test_layer_modules_golden_diff(tiny_graph, update_golden):
    parameter_names = set(tiny_graph.state_dict())
    before = to_networkx(tiny_graph)
    report = layer_modules.apply(tiny_graph)
    assert report.matched == report.replaced == 4
    assert report.details["distinct_layer_codes"] == 1, "before kv_offset the masks are inputs: one code for all"
    calls = [node.target for node in tiny_graph.graph.nodes if node.op == "call_module"]
    assert calls == [f"model.layers.{index}" for index in range(4)], "each layer is called once"
    assert isinstance(tiny_graph.get_submodule("model.layers.0"), torch.fx.GraphModule)
    assert set(tiny_graph.state_dict()) == parameter_names
    assert_matches_golden("layer_modules", diff(before, tiny_graph).summary(), update_golden)


def test_outputs_are_bit_identical_after_the_other_passes(tiny_model):
    graph = capture(tiny_model)
    run_pipeline(graph, [name for name in passes.CANONICAL_ORDER if name != "layer_modules"])
    inputs = example_inputs(graph_spec(graph), batch_size=2, query_length=6, cache_length=9, device="cpu")
    with torch.no_grad():
        before = graph(*inputs)
        layer_modules.apply(graph)
        after = graph(*inputs)
    assert len(before) == len(after)
    for index, (expected, got) in enumerate(zip(before, after, strict=True)):
        assert torch.equal(got, expected), graph_spec(graph).output_names[index]


def test_checkpoint_defines_one_class_per_distinct_layer_and_loads(full_checkpoint):
    source = (full_checkpoint / "module.py").read_text()
    # sliding and full layers differ only in their SinkMask input (the window travels in it): one class
    assert re.findall(r"^class (\w+)", source, re.M) == ["GptOssDecoderLayer", "RewrittenGptOssGraph"]
    model = load(full_checkpoint)
    hf = GptOssForCausalLM.from_pretrained(full_checkpoint).eval()
    ids = torch.randint(3, 512, (2, 12), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model(ids), hf(ids).logits, atol=1e-5, rtol=0)
    assert dict(model.graph_module.named_parameters()).keys() == dict(hf.named_parameters()).keys()


def test_emitted_classes_live_in_an_importable_module_so_torch_compile_can_inline_them(full_checkpoint):
    layer = load(full_checkpoint).graph_module.get_submodule("model.layers.0")
    module_name = type(layer).forward.__globals__["__name__"]
    assert importlib.import_module(module_name).GptOssDecoderLayer is type(layer)


def test_a_checkpoint_with_layer_modules_generates_what_transformers_generates(full_checkpoint):
    model = load(full_checkpoint)
    hf = GptOssForCausalLM.from_pretrained(full_checkpoint).eval()
    ids = torch.randint(3, 512, (2, 20), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[0, :5] = 0
    ids = ids.masked_fill(mask == 0, 0)
    ours = generate(model, ids, mask, max_new_tokens=12)
    theirs = hf.generate(input_ids=ids, attention_mask=mask, max_new_tokens=12, do_sample=False, pad_token_id=0)
    assert torch.equal(ours, theirs)


def test_diff_and_inspect_describe_a_checkpoint_with_layer_modules(tiny_checkpoint, full_checkpoint, capsys):
    assert main(["diff", str(tiny_checkpoint), str(full_checkpoint)]) == 0
    summary = capsys.readouterr().out
    # both call the layers (the structure passes always run); inside them, moe_grouped's experts module is new
    assert "4 x call_module:mlp.experts" in summary and "call_module:model.layers" not in summary.split("edges")[0]
    assert main(["inspect", str(full_checkpoint)]) == 0
    assert "layer_modules: matched 4, replaced 4" in capsys.readouterr().out
