"""Helpers every pass shares: finding calls, replacing a node, finishing a graph, naming layers."""

from __future__ import annotations

import re
from collections.abc import Callable

import torch


def calls_to(graph: torch.fx.Graph, target: Callable) -> list[torch.fx.Node]:
    return [node for node in graph.nodes if node.op == "call_function" and node.target is target]


def replace_with_call(node: torch.fx.Node, target: Callable, args: tuple) -> torch.fx.Node:
    """Insert `target(*args)` where `node` stands, move its users over, erase it; keeps its metadata."""
    graph = node.graph
    with graph.inserting_before(node):
        replacement = graph.call_function(target, args)
    replacement.meta.update({key: value for key, value in node.meta.items() if key != "val"})
    node.replace_all_uses_with(replacement)
    graph.erase_node(node)
    return replacement


def replace_with_module(
    graph_module: torch.fx.GraphModule, node: torch.fx.Node, path: str, module: torch.nn.Module, args: tuple
) -> torch.fx.Node:
    """Install `module` at dotted `path` and call it with `args` where `node` stands; erase `node`."""
    parent, _, name = path.rpartition(".")
    graph_module.get_submodule(parent).add_module(name, module)
    with graph_module.graph.inserting_before(node):
        call = graph_module.graph.call_module(path, args)
    call.meta.update({key: value for key, value in node.meta.items() if key != "val"})
    node.replace_all_uses_with(call)
    graph_module.graph.erase_node(node)
    return call


def finish(graph_module: torch.fx.GraphModule) -> None:
    """torch.fx's ending for a pass: drop what nothing uses, check the graph, regenerate the code."""
    graph_module.graph.eliminate_dead_code()
    graph_module.graph.lint()
    graph_module.recompile()


def layer_index(node: torch.fx.Node) -> int | None:
    """The decoder layer a node was traced in, from export's module-stack metadata."""
    for path, _ in reversed(list((node.meta.get("nn_module_stack") or {}).values())):
        match = re.search(r"layers\.(\d+)", str(path))
        if match:
            return int(match.group(1))
    return None
