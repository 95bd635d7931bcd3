"""flex_sink and kv_offset: golden graph diffs, numerics against HF eager, and graphs they must not touch."""

import copy

import pytest
import torch

from passes import flex_sink, kv_offset
from rewrite import RewrittenGptOss
from rewrite.graphdiff import diff, to_networkx
from rewrite.pipeline import run_pipeline
from rewrite.spec import graph_spec
from rewrite.verify import candidate_outputs, compare, reference_outputs, sample_batch
from runtime.ops import SinkMask, sink_attention
from tests.golden_files import assert_matches_golden


def test_flex_sink_golden_diff(tiny_graph, update_golden):
    before = to_networkx(tiny_graph)
    report = flex_sink.apply(tiny_graph)
    assert (report.matched, report.replaced) == (4, 4)
    assert report.details["layers"] == [0, 1, 2, 3]
    assert_matches_golden("flex_sink", diff(before, tiny_graph).summary(), update_golden)


def test_kv_offset_golden_diff(tiny_graph, update_golden):
    flex_sink.apply(tiny_graph)
    before = to_networkx(tiny_graph)
    report = kv_offset.apply(tiny_graph)
    assert (report.matched, report.replaced) == (4, 4)
    assert report.details["dense_masks_removed"] == 2
    assert report.details["windows"] == [8, None, 8, None]
    masks = [node.args[4] for node in tiny_graph.graph.nodes if node.target is sink_attention]
    assert [mask.target for mask in masks] == [SinkMask] * 4
    assert masks[0] is masks[2] and masks[1] is masks[3] and masks[0] is not masks[1], "one SinkMask per layer kind"
    assert_matches_golden("kv_offset", diff(before, tiny_graph).summary(), update_golden)


def test_rewritten_graph_matches_transformers_eager_per_layer_prefill_and_decode(tiny_model, tiny_graph):
    spec = graph_spec(tiny_graph)
    batch = sample_batch(spec, device="cpu", decode_steps=4)
    reports = run_pipeline(tiny_graph, ["flex_sink", "kv_offset"], verify_batch=batch)
    assert all(report.max_error <= 1e-5 for report in reports)
    targets = {node.target for node in tiny_graph.graph.nodes}
    assert sink_attention in targets and SinkMask in targets
    assert torch.ops.gpt_oss_rewrite.padded_causal_mask.default not in targets, "no dense mask is left"
    comparison = compare(candidate_outputs(RewrittenGptOss(tiny_graph, spec), batch),
                         reference_outputs(tiny_model, batch), tolerance=1e-5)
    assert comparison.passed, comparison.layer_errors


def test_rewritten_graph_trains_like_transformers_eager(tiny_model, tiny_graph):
    """d(loss)/d(every weight) through the rewritten graph equals HF eager's, sinks included.

    (The op's own q/k/v/sink gradients are held to 1e-5 in tests/ops; whole-model gradients pile up
    float32 rounding through 4 layers of routing, hence 5e-5 relative here.)"""
    spec = graph_spec(tiny_graph)
    run_pipeline(tiny_graph, ["flex_sink", "kv_offset"])
    model = RewrittenGptOss(tiny_graph, spec)
    reference = copy.deepcopy(tiny_model)
    batch = sample_batch(spec, device="cpu")
    ours = model(batch.input_ids, batch.attention_mask)
    theirs = reference(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits
    real = batch.attention_mask.bool()
    weights = torch.randn_like(ours[real])
    (ours[real] * weights).sum().backward()
    (theirs[real] * weights).sum().backward()
    reference_grads = dict(reference.named_parameters())
    for name, parameter in tiny_graph.named_parameters():
        # transformers' expert loop skips experts no token chose, leaving their weights without a gradient
        expected = reference_grads[name].grad
        expected = torch.zeros_like(parameter) if expected is None else expected
        actual = torch.zeros_like(parameter) if parameter.grad is None else parameter.grad
        scale = max(1.0, expected.abs().max().item())
        assert (actual - expected).abs().max().item() / scale < 5e-5, name
    assert tiny_graph.get_parameter("model.layers.0.self_attn.sinks").grad.abs().sum() > 0


def test_graph_without_sink_attention_is_left_unchanged():
    graph_module = torch.fx.symbolic_trace(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.ReLU()))
    before = to_networkx(graph_module)
    for graph_pass in (flex_sink, kv_offset):
        report = graph_pass.apply(graph_module)
        assert report.matched == 0 and report.replaced == 0
        assert report.left_alone, "the report says why nothing changed"
    assert diff(before, graph_module).unchanged


@pytest.mark.parametrize("passes", ["flex_sink", "flex_sink,kv_offset"])
def test_built_checkpoint_checks_against_transformers(passes, tmp_path):
    from rewrite import build
    from rewrite.check import check_checkpoint

    out = build(tmp_path / "out", preset="tiny", passes=passes)
    comparison = check_checkpoint(out)
    assert comparison.passed, comparison.layer_errors
