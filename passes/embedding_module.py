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

from functools import partial

import torch

from rewrite.graph_pass import GraphPass, LeftAlone, PassReport

from .driver import ModuleCall, rewrite_each
from .matching import attribute_owner

NAME = "embedding_module"
_DEFAULTS = (-1, False, False)  # aten.embedding's padding_idx, scale_grad_by_freq, sparse


def _embedding_module(graph_module: torch.fx.GraphModule, node: torch.fx.Node) -> ModuleCall | LeftAlone:
    weight, ids, padding_idx, scale_grad_by_freq, sparse = (*node.args, *_DEFAULTS[len(node.args) - 2 :])
    owner = attribute_owner(weight=weight)
    if owner is None or scale_grad_by_freq or sparse:
        return LeftAlone("not a plain lookup in an attribute P.weight")
    table = graph_module.get_parameter(weight.target)
    embedding = torch.nn.Embedding(*table.shape, padding_idx=None if padding_idx < 0 else padding_idx, device="meta")
    embedding.weight = table
    return ModuleCall(owner, embedding, (ids,))


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    return rewrite_each(
        graph_module, torch.ops.aten.embedding.default, partial(_embedding_module, graph_module), pass_name=NAME,
        if_none_matched="no aten.embedding in this graph",
    )


PASS = GraphPass(NAME, apply, "aten.embedding on a weight -> an nn.Embedding submodule the runtime can swap")
