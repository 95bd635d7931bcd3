"""Capture reproduces transformers' eager gpt-oss forward: prefill, decode, left padding, both layer types."""

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from rewrite import RewrittenGptOss, UnsupportedModelError, capture
from rewrite.spec import graph_spec
from rewrite.verify import candidate_outputs, compare, reference_outputs, sample_batch


def test_capture_matches_transformers_eager_per_layer_prefill_and_decode(tiny_model, tiny_graph):
    spec = graph_spec(tiny_graph)
    batch = sample_batch(spec, device="cpu", decode_steps=4)
    assert batch.attention_mask[:, 0].eq(0).any(), "the sample batch must be left-padded"
    assert batch.attention_mask.sum(1).max() > spec.sliding_window, "prompts must outrun the window"
    ours = candidate_outputs(RewrittenGptOss(tiny_graph, spec), batch)
    theirs = reference_outputs(tiny_model, batch)
    comparison = compare(ours, theirs, tolerance=1e-5)
    assert comparison.passed, comparison.layer_errors
    assert {f"hidden_state_{i}" for i in range(spec.num_layers + 1)} <= comparison.layer_errors.keys()
    assert any(name.startswith("decode_3/") for name in comparison.errors)


def test_captured_graph_has_no_cache_object_and_is_functional(tiny_graph):
    targets = {str(node.target) for node in tiny_graph.graph.nodes if node.op == "call_function"}
    assert "aten.index_copy.default" in targets, "cache writes are functional index_copy"
    assert "aten.index_copy_.default" not in targets
    placeholders = [node.name for node in tiny_graph.graph.nodes if node.op == "placeholder"]
    assert placeholders == graph_spec(tiny_graph).input_names


def test_capture_leaves_the_inputs_untouched(tiny_graph):
    spec = graph_spec(tiny_graph)
    model = RewrittenGptOss(tiny_graph, spec)
    caches = model.empty_caches(2, 6)
    ids = torch.randint(3, spec.vocab_size, (2, 4))
    mask = torch.ones(2, 6, dtype=torch.long)
    model.step(ids, mask, torch.arange(4).expand(2, 4), 0, caches)
    assert all(cache.abs().sum() == 0 for cache in caches)


def test_captured_graph_carries_no_capture_device(tiny_graph):
    for node in tiny_graph.graph.nodes:
        for value in (*node.args, *node.kwargs.values()):
            assert not isinstance(value, torch.device), node.format_node()


def test_capture_refuses_a_model_that_is_not_gpt_oss():
    config = LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1)
    with pytest.raises(UnsupportedModelError, match="only gpt-oss"):
        capture(LlamaForCausalLM(config))
