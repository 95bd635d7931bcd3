"""kv_offset: dense attention masks -> the attention op's mask description (offsets, padding, window).

Matches: `runtime.ops.sink_attention(q, k, v, sinks, mask, scale)` (left by `flex_sink`) whose mask is
a `gpt_oss_rewrite::padded_causal_mask(attention_mask, query_positions, window, dtype)`.
Produces: the same call with `mask` = `runtime.ops.SinkMask(query_offset, padding, window)`, where
  query_offset = min(query_positions)                   (the KV-cache write position of this step)
  padding      = leading zeros of each attention_mask row (left padding)
are computed once per graph and shared by all layers, and one `SinkMask` per window by the layers of
that kind, so no [B, 1, Q, K] mask is built any more and the offsets are tensors the op reads at run
time: prefill, each decode step and each new batch's padding run the same code with nothing recompiled.
Keeps: outputs equal for left-padded batches (each row's ones contiguous from its first one up to the
query). A row's later zeros (say, padding after an end-of-sequence) are then treated as visible, which
changes only the outputs of query positions after them. Calls whose mask is built otherwise are left
alone and reported.
"""

from __future__ import annotations

from functools import partial

import torch

import rewrite.marks  # noqa: F401  (registers the mask op this pass matches)
from rewrite.graph_pass import GraphPass, LeftAlone, PassReport
from runtime.ops import SinkMask, sink_attention

from .driver import Call, rewrite_each
from .matching import calls_to

NAME = "kv_offset"
_MASK = torch.ops.gpt_oss_rewrite.padded_causal_mask.default
aten = torch.ops.aten


def _offsets(graph: torch.fx.Graph, mask: torch.fx.Node) -> tuple[torch.fx.Node, torch.fx.Node]:
    attention_mask, query_positions, _, _ = mask.args
    with graph.inserting_before(mask):
        # A reduction, not `query_positions[0]`: inductor then materialises it instead of inlining the
        # `arange` behind it into flex's template, which torch 2.11 miscompiles (XBLOCK undefined).
        query_offset = graph.call_function(aten.min.default, (query_positions,))
        seen = graph.call_function(aten.cumsum.default, (attention_mask, -1))
        is_padding = graph.call_function(aten.eq.Scalar, (seen, 0))
        padding = graph.call_function(aten.sum.dim_IntList, (is_padding, [-1]))
    return query_offset, padding


def _mask_description(offsets: tuple[torch.fx.Node, torch.fx.Node], window: int | None) -> torch.fx.Node:
    """The `SinkMask(query_offset, padding, window)` node of these offsets: one per window, made on first use."""
    query_offset, padding = offsets
    for user in padding.users:
        if user.target is SinkMask and user.args[2] == window:
            return user
    with padding.graph.inserting_after(padding):
        return padding.graph.call_function(SinkMask, (query_offset, padding, window))


def _offsets_attention(descriptions: dict, windows: list, node: torch.fx.Node) -> Call | LeftAlone:
    """The call with its mask described by offsets; `descriptions` holds the offsets of each
    (attention_mask, query_positions) pair, `windows` gets each call's window."""
    query, key, value, sinks, mask, scale = node.args
    if not (isinstance(mask, torch.fx.Node) and mask.target is _MASK):
        return LeftAlone("its mask is not a padded_causal_mask")
    inputs = tuple(mask.args[:2])
    if inputs not in descriptions:
        descriptions[inputs] = _offsets(mask.graph, mask)
    window = mask.args[2]
    windows.append(window)
    return Call(sink_attention, (query, key, value, sinks, _mask_description(descriptions[inputs], window), scale))


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    masks_before = len(calls_to(graph_module.graph, _MASK))
    windows = []

    def mask_details(_: list[torch.fx.Node]) -> dict:
        return {"windows": windows, "dense_masks_removed": masks_before - len(calls_to(graph_module.graph, _MASK))}

    return rewrite_each(
        graph_module, sink_attention, partial(_offsets_attention, {}, windows), pass_name=NAME,
        if_none_matched="no sink_attention call in this graph: run flex_sink first", details=mask_details,
    )


PASS = GraphPass(NAME, apply, "dense causal/sliding masks -> KV-cache write offset and padding tensors")
