"""moe_grouped: gpt-oss experts as grouped GEMMs.

Matches: every `gpt_oss_rewrite::experts(hidden, router_indices, routing_weights, P.gate_up_proj,
P.gate_up_proj_bias, P.down_proj, P.down_proj_bias, alpha, limit)` node whose four weights are attributes of one
module path P (capture makes one such node of transformers' per-expert loop in each layer).
Produces: `call_module P (hidden, router_indices, routing_weights)` with a `runtime.ops.GroupedExperts` at P that
owns the very same parameters under the same names: (token, expert) pairs sorted by expert once per layer, one
grouped matmul for gate/up and one for down, biases and the clamped SwiGLU between them, the top-k sum in a fixed
order. The parameter names stay transformers' (`model.layers.0.mlp.experts.gate_up_proj`), so checkpoints and
peft `target_parameters` see the same model.
Keeps: outputs equal to transformers' eager experts within float tolerance (the sums run in another order),
gradients included. Nodes whose weights are not attributes of one path are left alone and reported.
"""

from __future__ import annotations

import torch

import rewrite.marks  # noqa: F401  (registers the marker op this pass matches)
from rewrite.report import GraphPass, PassReport
from runtime.ops.grouped_experts import GroupedExperts

from .matching import calls_to, finish, layer_index, replace_with_module

NAME = "moe_grouped"
_WEIGHTS = ("gate_up_proj", "gate_up_proj_bias", "down_proj", "down_proj_bias")


def _owner(weights: tuple) -> str | None:
    """P when the four weight arguments are get_attr nodes P.gate_up_proj, ..., P.down_proj_bias."""
    if not all(isinstance(node, torch.fx.Node) and node.op == "get_attr" for node in weights):
        return None
    owners = {node.target.rpartition(".")[0] for node in weights}
    names = tuple(node.target.rpartition(".")[2] for node in weights)
    return owners.pop() if len(owners) == 1 and names == _WEIGHTS else None


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    report = PassReport(NAME)
    layers = []
    for node in calls_to(graph_module.graph, torch.ops.gpt_oss_rewrite.experts.default):
        report.matched += 1
        hidden, router_indices, routing_weights, *weights, alpha, limit = node.args
        owner = _owner(tuple(weights))
        if owner is None:
            report.left_alone.append(f"{node.name}: expert weights are not the attributes of one module")
            continue
        experts = GroupedExperts(*(graph_module.get_parameter(weight.target) for weight in weights), alpha, limit)
        call = replace_with_module(graph_module, node, owner, experts, (hidden, router_indices, routing_weights))
        layers.append(layer_index(call))
        report.replaced += 1
    if not report.matched:
        report.left_alone.append("no experts marker in this graph: nothing to replace")
    report.details["layers"] = layers
    finish(graph_module)
    return report


PASS = GraphPass(NAME, apply, "per-expert loop -> grouped GEMMs over expert-sorted tokens (GroupedExperts modules)")
