"""What passes match with: calls of a target, the module that owns weight attributes, a node's layer."""

from __future__ import annotations

import re
from collections.abc import Callable

import torch


def calls_to(graph: torch.fx.Graph, target: Callable) -> list[torch.fx.Node]:
    return [node for node in graph.nodes if node.op == "call_function" and node.target is target]


def attribute_owner(**attributes: torch.fx.node.Argument) -> str | None:
    """The module path P that owns the weights: P when each keyword's argument is the node `get_attr P.<keyword>`
    (`attribute_owner(weight=w, bias=b)`), one P for all; an argument that is None stands for an optional
    attribute the call does without (a linear's bias). None when any other argument does not fit."""
    given = [(name, node) for name, node in attributes.items() if node is not None]
    if not given or not all(isinstance(node, torch.fx.Node) and node.op == "get_attr" for _, node in given):
        return None
    owners = {node.target.rpartition(".")[0] for _, node in given}
    owner = owners.pop() if len(owners) == 1 else ""
    return owner if owner and all(node.target == f"{owner}.{name}" for name, node in given) else None


def layer_index(node: torch.fx.Node) -> int | None:
    """The decoder layer a node was traced in, from export's module-stack metadata."""
    for path, _ in reversed(list((node.meta.get("nn_module_stack") or {}).values())):
        match = re.search(r"layers\.(\d+)", str(path))
        if match:
            return int(match.group(1))
    return None


def layers_detail(replacements: list[torch.fx.Node]) -> dict[str, list[int | None]]:
    """The report detail `layers`: the decoder layer each replacement stands in."""
    return {"layers": [layer_index(node) for node in replacements]}
