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

import torch

from rewrite.report import GraphPass, PassReport

from .matching import calls_to, finish, replace_with_module

NAME = "linear_modules"


def _owner(node) -> str | None:
    if isinstance(node, torch.fx.Node) and node.op == "get_attr" and node.target.endswith(".weight"):
        return node.target.removesuffix(".weight")
    return None


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    report = PassReport(NAME)
    converted = []
    for node in calls_to(graph_module.graph, torch.ops.aten.linear.default):
        report.matched += 1
        inputs, weight, bias = (*node.args, None)[:3]
        owner = _owner(weight)
        if owner is None or (bias is not None and getattr(bias, "target", None) != f"{owner}.bias"):
            report.left_alone.append(f"{node.name}: weight or bias is not an attribute pair P.weight/P.bias")
            continue
        weight_tensor = graph_module.get_parameter(weight.target)
        linear = torch.nn.Linear(weight_tensor.shape[1], weight_tensor.shape[0], bias=bias is not None, device="meta")
        linear.weight = weight_tensor
        if bias is not None:
            linear.bias = graph_module.get_parameter(bias.target)
        replace_with_module(graph_module, node, owner, linear, (inputs,))
        converted.append(owner)
        report.replaced += 1
    if not report.matched:
        report.left_alone.append("no aten.linear in this graph")
    report.details["modules"] = len(converted)
    finish(graph_module)
    return report


PASS = GraphPass(NAME, apply, "aten.linear on weights -> nn.Linear submodules, so peft can attach LoRA")
