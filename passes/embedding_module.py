"""embedding_module: `aten.embedding` of a weight attribute -> a call of a real `nn.Embedding` submodule.

Matches: `aten.embedding(get_attr P.weight, ids[, padding_idx])`, the form torch.export leaves transformers'
`embed_tokens` in.
Produces: `call_module P (ids)` with an `nn.Embedding` at P holding the very same weight (and padding
index), so the runtime can swap the module, e.g. for one whose table stays in CPU memory and sends only
the batch's rows to the GPU (`runtime.grpo.memory`).
Keeps: outputs bit-identical (`nn.Embedding.forward` is the same `F.embedding`). Lookups with
`scale_grad_by_freq` or `sparse` set, or whose weight is not an attribute named `*.weight`, are left alone
and reported.
"""

from __future__ import annotations

import torch

from rewrite.report import GraphPass, PassReport

from .matching import calls_to, finish, replace_with_module

NAME = "embedding_module"
_DEFAULTS = (-1, False, False)  # aten.embedding's padding_idx, scale_grad_by_freq, sparse


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    report = PassReport(NAME)
    for node in calls_to(graph_module.graph, torch.ops.aten.embedding.default):
        report.matched += 1
        weight, ids, padding_idx, scale_grad_by_freq, sparse = (*node.args, *_DEFAULTS[len(node.args) - 2 :])
        if weight.op != "get_attr" or not weight.target.endswith(".weight") or scale_grad_by_freq or sparse:
            report.left_alone.append(f"{node.name}: not a plain lookup in an attribute P.weight")
            continue
        owner = weight.target.removesuffix(".weight")
        table = graph_module.get_parameter(weight.target)
        embedding = torch.nn.Embedding(*table.shape, padding_idx=None if padding_idx < 0 else padding_idx,
                                       device="meta")
        embedding.weight = table
        replace_with_module(graph_module, node, owner, embedding, (ids,))
        report.replaced += 1
    if not report.matched:
        report.left_alone.append("no aten.embedding in this graph")
    finish(graph_module)
    return report


PASS = GraphPass(NAME, apply, "aten.embedding on a weight -> an nn.Embedding submodule the runtime can swap")
