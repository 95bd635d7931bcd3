"""moe_grouped: gpt-oss experts as grouped GEMMs in GroupedExperts modules, equal to transformers' eager experts."""

import pytest
import torch
from transformers.models.gpt_oss.modeling_gpt_oss import GptOssExperts

from passes import moe_grouped
from rewrite import build
from rewrite.check import check_checkpoint
from rewrite.graphdiff import diff, to_networkx
from runtime.ops.grouped_experts import GroupedExperts, Routing, expert_loop
from tests.golden_files import assert_matches_golden


def test_moe_grouped_golden_diff(tiny_graph, update_golden):
    parameter_names = {name for name, _ in tiny_graph.named_parameters()}
    before = to_networkx(tiny_graph)
    report = moe_grouped.apply(tiny_graph)
    assert report.matched == report.replaced == 4
    assert report.details["layers"] == [0, 1, 2, 3]
    assert isinstance(tiny_graph.get_submodule("model.layers.2.mlp.experts"), GroupedExperts)
    assert {name for name, _ in tiny_graph.named_parameters()} == parameter_names, "transformers' names are kept"
    assert_matches_golden("moe_grouped", diff(before, tiny_graph).summary(), update_golden)


def test_graph_without_experts_marker_is_left_alone_with_a_reason(tiny_graph):
    moe_grouped.apply(tiny_graph)
    report = moe_grouped.apply(tiny_graph)
    assert report.matched == 0
    assert "no experts marker" in report.left_alone[0]


def _transformers_experts(tiny_model, layer: int) -> GptOssExperts:
    experts = tiny_model.model.layers[layer].mlp.experts
    assert experts.config._experts_implementation == "eager"
    return experts


def _routed_tokens(tiny_model, tokens: int):
    config = tiny_model.config
    generator = torch.Generator().manual_seed(1)
    hidden = torch.randn(tokens, config.hidden_size, generator=generator)
    logits = torch.randn(tokens, config.num_local_experts, generator=generator)
    top, indices = logits.topk(config.num_experts_per_tok, dim=-1)
    return hidden, indices, top.softmax(-1)


@pytest.mark.parametrize("path", ["grouped_mm", "expert_loop"])
def test_grouped_experts_equal_transformers_eager_with_gradients(tiny_model, path):
    reference = _transformers_experts(tiny_model, 1)
    ours = GroupedExperts(reference.gate_up_proj, reference.gate_up_proj_bias, reference.down_proj,
                          reference.down_proj_bias, reference.alpha, reference.limit)
    hidden, indices, weights = _routed_tokens(tiny_model, tokens=13)
    inputs = [hidden.clone().requires_grad_(), weights.clone().requires_grad_()]
    expected = reference(inputs[0], indices, inputs[1])
    leaves = [hidden.clone().requires_grad_(), weights.clone().requires_grad_()]
    if path == "grouped_mm":
        actual = ours(leaves[0], indices, leaves[1])
    else:
        actual = expert_loop(leaves[0], Routing(indices, leaves[1], ours.num_experts),
                             lambda e: (ours.gate_up_proj[e], ours.gate_up_proj_bias[e], ours.down_proj[e],
                                        ours.down_proj_bias[e]), ours.alpha, ours.limit)
    torch.testing.assert_close(actual, expected, atol=1e-5, rtol=0)
    grad = torch.randn_like(expected)
    expected_grads = torch.autograd.grad(expected, [*inputs, reference.gate_up_proj, reference.down_proj_bias], grad)
    actual_grads = torch.autograd.grad(actual, [*leaves, ours.gate_up_proj, ours.down_proj_bias], grad)
    for got, want in zip(actual_grads, expected_grads, strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_experts_no_token_chose_cost_nothing_and_give_no_nan(tiny_model):
    reference = _transformers_experts(tiny_model, 0)
    ours = GroupedExperts(reference.gate_up_proj, reference.gate_up_proj_bias, reference.down_proj,
                          reference.down_proj_bias, reference.alpha, reference.limit)
    hidden, _, weights = _routed_tokens(tiny_model, tokens=5)
    indices = torch.tensor([[0, 1]] * 5)  # experts 2 and 3 get no token
    torch.testing.assert_close(ours(hidden, indices, weights), reference(hidden, indices, weights), atol=1e-5, rtol=0)


def test_checkpoint_with_grouped_experts_matches_transformers_eager(tmp_path):
    directory = build(tmp_path / "tiny", preset="tiny", passes="flex_sink,kv_offset,moe_grouped")
    comparison = check_checkpoint(directory)
    assert comparison.passed, comparison.layer_errors
    assert max(comparison.layer_errors.values()) < 1e-5
