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

from functools import partial

import torch

import rewrite.marks  # noqa: F401  (registers the marker op this pass matches)
from rewrite.graph_pass import GraphPass, LeftAlone, PassReport
from runtime.ops.grouped_experts import GroupedExperts

from .driver import ModuleCall, rewrite_each
from .matching import attribute_owner, layers_detail

NAME = "moe_grouped"
_WEIGHTS = ("gate_up_proj", "gate_up_proj_bias", "down_proj", "down_proj_bias")


def _grouped_experts(graph_module: torch.fx.GraphModule, node: torch.fx.Node) -> ModuleCall | LeftAlone:
    hidden, router_indices, routing_weights, *weights, alpha, limit = node.args
    owner = attribute_owner(**dict(zip(_WEIGHTS, weights, strict=True)))
    if owner is None:
        return LeftAlone("expert weights are not the attributes of one module")
    experts = GroupedExperts(*(graph_module.get_parameter(weight.target) for weight in weights), alpha, limit)
    return ModuleCall(owner, experts, (hidden, router_indices, routing_weights))


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    return rewrite_each(
        graph_module, torch.ops.gpt_oss_rewrite.experts.default, partial(_grouped_experts, graph_module),
        pass_name=NAME, if_none_matched="no experts marker in this graph: nothing to replace", details=layers_detail,
    )


PASS = GraphPass(NAME, apply, "per-expert loop -> grouped GEMMs over expert-sorted tokens (GroupedExperts modules)")
