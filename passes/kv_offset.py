"""kv_offset: dense attention masks -> the flex-sink op's mask description (offsets, padding, window).

Matches: `flex_sink_attention_dense_mask(q, k, v, sinks, scale, mask)` (left by `flex_sink`) whose mask is
a `gpt_oss_rewrite::padded_causal_mask(attention_mask, query_positions, window, dtype)`.
Produces: `runtime.ops.flex_sink_attention(q, k, v, sinks, scale, query_offset, padding, window)` with
  query_offset = min(query_positions)                   (the KV-cache write position of this step)
  padding      = leading zeros of each attention_mask row (left padding)
computed once per graph and shared by all layers, so no [B, 1, Q, K] mask is built any more and the
offsets are tensors the op reads at run time: prefill, each decode step and each new batch's padding
run the same code with nothing recompiled.
Keeps: outputs equal for left-padded batches (each row's ones contiguous from its first one up to the
query). A row's later zeros (say, padding after an end-of-sequence) are then treated as visible, which
changes only the outputs of query positions after them. Calls whose mask is built otherwise are left
alone and reported.
"""

from __future__ import annotations

import torch

import rewrite.marks  # noqa: F401  (registers the mask op this pass matches)
from rewrite.report import GraphPass, PassReport
from runtime.ops import flex_sink_attention, flex_sink_attention_dense_mask

from .matching import calls_to, finish, replace_with_call

NAME = "kv_offset"
_MASK = torch.ops.gpt_oss_rewrite.padded_causal_mask.default
aten = torch.ops.aten


def _mask_description(graph: torch.fx.Graph, mask: torch.fx.Node) -> tuple[torch.fx.Node, torch.fx.Node]:
    attention_mask, query_positions, _, _ = mask.args
    with graph.inserting_before(mask):
        # A reduction, not `query_positions[0]`: inductor then materialises it instead of inlining the
        # `arange` behind it into flex's template, which torch 2.11 miscompiles (XBLOCK undefined).
        query_offset = graph.call_function(aten.min.default, (query_positions,))
        seen = graph.call_function(aten.cumsum.default, (attention_mask, -1))
        is_padding = graph.call_function(aten.eq.Scalar, (seen, 0))
        padding = graph.call_function(aten.sum.dim_IntList, (is_padding, [-1]))
    return query_offset, padding


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    graph = graph_module.graph
    report = PassReport(NAME)
    descriptions: dict[tuple, tuple[torch.fx.Node, torch.fx.Node]] = {}
    windows = []
    for node in calls_to(graph, flex_sink_attention_dense_mask):
        report.matched += 1
        query, key, value, sinks, scale, mask = node.args
        if not (isinstance(mask, torch.fx.Node) and mask.target is _MASK):
            report.left_alone.append(f"{node.name}: its mask is not a padded_causal_mask")
            continue
        inputs = tuple(mask.args[:2])
        if inputs not in descriptions:
            descriptions[inputs] = _mask_description(graph, mask)
        query_offset, padding = descriptions[inputs]
        window = mask.args[2]
        replace_with_call(node, flex_sink_attention, (query, key, value, sinks, scale, query_offset, padding, window))
        windows.append(window)
        report.replaced += 1
    if not report.matched:
        report.left_alone.append("no flex_sink_attention with a dense mask: run flex_sink first")
    masks_before = len(calls_to(graph, _MASK))
    finish(graph_module)
    report.details = {
        "windows": windows,
        "dense_masks_removed": masks_before - len(calls_to(graph, _MASK)),
    }
    return report


PASS = GraphPass(NAME, apply, "dense causal/sliding masks -> KV-cache write offset and padding tensors")
