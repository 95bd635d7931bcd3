"""Capture transformers' unmodified `GptOssForCausalLM.forward` as an ATen-level torch.fx GraphModule.

The model runs under `torch.export.export(strict=False)` inside a thin wrapper that supplies what the
graph needs to be one module for prefill and decode on left-padded batches:
- an explicit, functional static KV cache: one [B, Hkv, K, D] tensor per layer for keys and values goes
  in, `index_copy` writes the new tokens at `write_position`, and the updated caches come out;
- the two dense masks transformers' eager attention expects (full and sliding), passed as the prepared
  mask dict that `GptOssModel.forward` accepts, built by the marker op `padded_causal_mask`;
- attention routed through transformers' `AttentionInterface` to the marker op `sink_attention`, and the
  experts through its `ExpertsInterface` to the marker op `experts`.
Batch size, query length and cache length are dynamic, so one graph serves every step. See `spec.py`
for the calling convention.
"""

from __future__ import annotations

import inspect

import torch
from torch.export import Dim
from transformers import GptOssForCausalLM

from . import marks
from .errors import UnsupportedModelError
from .spec import SPEC_META_KEY, GraphSpec, pad_aware_position_ids


class FunctionalKVCache:
    """The part of transformers' cache protocol gpt-oss attention uses, without in-place writes."""

    is_compileable = True

    def __init__(self, keys, values, write_position: torch.Tensor):
        self.keys, self.values, self.write_position = list(keys), list(values), write_position

    def update(self, key_states, value_states, layer_idx, *args, **kwargs):
        slots = self.write_position + torch.arange(key_states.shape[-2], device=key_states.device)
        self.keys[layer_idx] = self.keys[layer_idx].index_copy(2, slots, key_states)
        self.values[layer_idx] = self.values[layer_idx].index_copy(2, slots, value_states)
        return self.keys[layer_idx], self.values[layer_idx]

    def get_seq_length(self, layer_idx: int = 0) -> torch.Tensor:
        return self.write_position


class _CaptureWrapper(torch.nn.Module):
    def __init__(self, model: GptOssForCausalLM):
        super().__init__()
        self.hf = model
        parameters = inspect.signature(model.forward).parameters
        self.cache_keyword = "cache" if "cache" in parameters else "past_key_values"

    def forward(self, input_ids, attention_mask, position_ids, write_position, *caches):
        config = self.hf.config
        num_layers = config.num_hidden_layers
        cache = FunctionalKVCache(caches[:num_layers], caches[num_layers:], write_position)
        query_positions = write_position + torch.arange(input_ids.shape[1], device=input_ids.device)
        dtype = self.hf.model.embed_tokens.weight.dtype
        masks = {
            "full_attention": marks.padded_causal_mask(attention_mask, query_positions, None, dtype),
            "sliding_attention": marks.padded_causal_mask(
                attention_mask, query_positions, config.sliding_window, dtype
            ),
        }
        output = self.hf(
            input_ids=input_ids,
            attention_mask=masks,
            position_ids=position_ids,
            use_cache=True,
            output_hidden_states=True,
            **{self.cache_keyword: cache},
        )
        return (output.logits, *output.hidden_states, *cache.keys, *cache.values)


def example_inputs(spec: GraphSpec, batch_size: int, query_length: int, cache_length: int, device) -> tuple:
    """A left-padded prefill batch in the graph's calling convention, with empty caches."""
    input_ids = torch.randint(0, spec.vocab_size, (batch_size, query_length), device=device)
    attention_mask = torch.zeros(batch_size, cache_length, dtype=torch.long, device=device)
    attention_mask[:, :query_length] = 1
    attention_mask[0, : query_length // 3] = 0
    position_ids = pad_aware_position_ids(attention_mask[:, :query_length])
    caches = [
        torch.zeros(spec.cache_shape(batch_size, cache_length), dtype=spec.torch_dtype, device=device)
        for _ in spec.cache_names
    ]
    return (input_ids, attention_mask, position_ids, torch.tensor(0, device=device), *caches)


def check_supported(model) -> None:
    if not isinstance(model, GptOssForCausalLM):
        kind = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
        raise UnsupportedModelError(
            f"cannot capture a {kind!r} model: only gpt-oss (GptOssForCausalLM) is supported"
        )


def capture(model: GptOssForCausalLM) -> torch.fx.GraphModule:
    """Export `model` once; the GraphModule's state dict names are transformers' own parameter names."""
    check_supported(model)
    parameter = next(model.parameters())
    spec = GraphSpec.from_config(model.config, parameter.dtype)
    batch, query, cache = Dim("batch", min=1), Dim("query_length", min=1), Dim("cache_length", min=1)
    dynamic_shapes = (
        {0: batch, 1: query},
        {0: batch, 1: cache},
        {0: batch, 1: query},
        None,
        tuple({0: batch, 2: cache} for _ in spec.cache_names),
    )
    inputs = example_inputs(spec, batch_size=2, query_length=6, cache_length=8, device=parameter.device)
    saved_implementations = model.config._attn_implementation, model.config._experts_implementation
    model.config._attn_implementation = marks.ATTENTION_IMPLEMENTATION
    model.config._experts_implementation = marks.EXPERTS_IMPLEMENTATION
    try:
        with torch.no_grad():
            exported = torch.export.export(
                _CaptureWrapper(model), inputs, dynamic_shapes=dynamic_shapes, strict=False
            )
    finally:
        model.config._attn_implementation, model.config._experts_implementation = saved_implementations
    return _plain_graph_module(exported.module(), spec)


def _plain_graph_module(unlifted: torch.fx.GraphModule, spec: GraphSpec) -> torch.fx.GraphModule:
    """Flat positional inputs and outputs named by the spec, and attributes named as transformers names them."""
    graph = unlifted.graph
    graph.set_codegen(torch.fx.graph.CodeGen())
    placeholders = [node for node in graph.nodes if node.op == "placeholder"]
    for node, name in zip(placeholders, spec.input_names, strict=True):
        node._rename(name)
        node.target = name
    for node in list(graph.nodes):
        if node.op == "call_module" and not node.users:
            graph.erase_node(node)  # export's input guard (`_guards_fn`); the runtime checks its inputs
    graph.eliminate_dead_code()  # e.g. RoPE's unused `original_inv_freq`, so pass diffs show only passes
    attributes = {}
    for node in graph.nodes:
        if node.op == "get_attr":
            value = _get_tensor(unlifted, node.target)
            node.target = node.target.removeprefix("hf.")
            attributes[node.target] = value
    _make_device_neutral(graph)
    graph_module = torch.fx.GraphModule(attributes, graph, class_name="CapturedGptOss")
    graph_module.meta[SPEC_META_KEY] = spec
    graph_module.graph.lint()
    graph_module.recompile()
    return graph_module


def _get_tensor(module: torch.nn.Module, target: str) -> torch.Tensor:
    owner, _, name = target.rpartition(".")
    return getattr(module.get_submodule(owner), name)


def _make_device_neutral(graph: torch.fx.Graph) -> None:
    """Replace the capture device baked into node arguments by `input_ids.device`, so that a graph
    captured on the CPU runs on a GPU and back; drop export's metadata assertions, which pin devices."""
    input_ids = next(node for node in graph.nodes if node.op == "placeholder")
    with graph.inserting_after(_last_placeholder(graph)):
        device = graph.call_function(getattr, (input_ids, "device"))
    for node in list(graph.nodes):
        if node.target is torch.ops.aten._assert_tensor_metadata.default:
            graph.erase_node(node)
        elif node is not device:
            node.args = _replace_devices(node.args, device)
            node.kwargs = _replace_devices(node.kwargs, device)


def _last_placeholder(graph: torch.fx.Graph) -> torch.fx.Node:
    return [node for node in graph.nodes if node.op == "placeholder"][-1]


def _replace_devices(value, device_node):
    return torch.fx.node.map_aggregate(
        value, lambda item: device_node if isinstance(item, torch.device) else item
    )
