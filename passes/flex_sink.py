"""flex_sink: gpt-oss sink attention as flex attention renormalised by `sigmoid(lse - sink)`.

Matches: every `gpt_oss_rewrite::sink_attention(q, k, v, sinks, mask, scale)` node, the one node capture
makes of transformers' eager sink attention (matmul, scale, add mask, concatenate sinks, subtract max,
softmax, drop the sink column, matmul).
Produces: `runtime.ops.sink_attention(q, k, v, sinks, mask, scale)`, the marker's arguments in the marker's
order: flex attention on CUDA (the chunked math backend with its own backward elsewhere), O(N) in memory
for the scores, with the sinks differentiable. The dense mask is still read; `kv_offset` replaces it with
a `SinkMask` (offsets).
Keeps: outputs equal to transformers' eager attention within float tolerance, gradients included.
A graph without sink attention is left unchanged, and the report says so.
"""

from __future__ import annotations

import torch

import rewrite.marks  # noqa: F401  (registers the marker op this pass matches)
from rewrite.graph_pass import GraphPass, PassReport
from runtime.ops import sink_attention

from .driver import Call, rewrite_each
from .matching import layers_detail

NAME = "flex_sink"


def _flex_attention(node: torch.fx.Node) -> Call:
    return Call(sink_attention, node.args)


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    return rewrite_each(
        graph_module, torch.ops.gpt_oss_rewrite.sink_attention.default, _flex_attention, pass_name=NAME,
        if_none_matched="no sink attention in this graph: nothing to replace", details=layers_detail,
    )


PASS = GraphPass(NAME, apply, "sink attention -> flex attention with sigmoid(lse - sink) renormalisation")
