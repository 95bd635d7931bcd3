"""flex_sink: gpt-oss sink attention as flex attention renormalised by `sigmoid(lse - sink)`.

Matches: every `gpt_oss_rewrite::sink_attention(q, k, v, sinks, mask, scale)` node, the one node capture
makes of transformers' eager sink attention (matmul, scale, add mask, concatenate sinks, subtract max,
softmax, drop the sink column, matmul).
Produces: `runtime.ops.flex_sink_attention_dense_mask(q, k, v, sinks, scale, mask)`: flex attention on
CUDA (the chunked math path with its own backward elsewhere), O(N) in memory for the scores, with the
sinks differentiable. The dense mask is still read; `kv_offset` replaces it with offsets.
Keeps: outputs equal to transformers' eager attention within float tolerance, gradients included.
A graph without sink attention is left unchanged, and the report says so.
"""

from __future__ import annotations

import torch

import rewrite.marks  # noqa: F401  (registers the marker op this pass matches)
from rewrite.report import GraphPass, PassReport
from runtime.ops import flex_sink_attention_dense_mask

from .matching import calls_to, finish, layer_index, replace_with_call

NAME = "flex_sink"


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    report = PassReport(NAME)
    layers = []
    for node in calls_to(graph_module.graph, torch.ops.gpt_oss_rewrite.sink_attention.default):
        report.matched += 1
        query, key, value, sinks, mask, scale = node.args
        layers.append(layer_index(node))
        replace_with_call(node, flex_sink_attention_dense_mask, (query, key, value, sinks, scale, mask))
        report.replaced += 1
    if not report.matched:
        report.left_alone.append("no sink attention in this graph: nothing to replace")
    report.details["layers"] = layers
    finish(graph_module)
    return report


PASS = GraphPass(NAME, apply, "sink attention -> flex attention with sigmoid(lse - sink) renormalisation")
