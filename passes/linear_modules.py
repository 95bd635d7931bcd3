"""linear_modules: `aten.linear` on weight attributes -> calls of real `nn.Linear` submodules.

Matches: `aten.linear(x, get_attr P.weight)` and `aten.linear(x, get_attr P.weight, get_attr P.bias)`, the
form torch.export leaves every transformers `nn.Linear` in (and the router, whose weight and bias are
laid out as one).
Produces: `call_module P (x)` with an `nn.Linear` at P holding the very same parameters, so the emitted
module has transformers' module names (`model.layers.0.self_attn.q_proj`, ...) and peft can wrap them
with LoRA adapters by name, and disable them for the reference policy.
Keeps: outputs bit-identical (`nn.Linear.forward` is the same `F.linear`). Linears whose weight is not
an attribute named `*.weight` (or whose bias lives elsewhere) are left alone and reported.
"""

from __future__ import annotations

from functools import partial

import torch

from rewrite.graph_pass import GraphPass, LeftAlone, PassReport

from .driver import ModuleCall, rewrite_each
from .matching import attribute_owner

NAME = "linear_modules"


def _linear_module(graph_module: torch.fx.GraphModule, node: torch.fx.Node) -> ModuleCall | LeftAlone:
    inputs, weight, bias = (*node.args, None)[:3]
    owner = attribute_owner(weight=weight, bias=bias)
    if owner is None:
        return LeftAlone("weight or bias is not an attribute pair P.weight/P.bias")
    weight_tensor = graph_module.get_parameter(weight.target)
    linear = torch.nn.Linear(weight_tensor.shape[1], weight_tensor.shape[0], bias=bias is not None, device="meta")
    linear.weight = weight_tensor
    if bias is not None:
        linear.bias = graph_module.get_parameter(bias.target)
    return ModuleCall(owner, linear, (inputs,))


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    return rewrite_each(
        graph_module, torch.ops.aten.linear.default, partial(_linear_module, graph_module), pass_name=NAME,
        if_none_matched="no aten.linear in this graph", details=lambda linears: {"modules": len(linears)},
    )


PASS = GraphPass(NAME, apply, "aten.linear on weights -> nn.Linear submodules, so peft can attach LoRA")
