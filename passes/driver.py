"""The driver every pass runs on: a pass gives a match and a replacement; this counts, records what was left
alone and why, and finishes the graph as torch.fx passes end. Not a pass itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from rewrite.graph_pass import LeftAlone, PassReport

from .matching import calls_to


@dataclass(frozen=True)
class Call:
    """A replacement: the node `target(*args)` (call_function) in the matched node's place."""

    target: Callable
    args: tuple

    def insert(self, graph_module: torch.fx.GraphModule) -> torch.fx.Node:
        return graph_module.graph.call_function(self.target, self.args)


@dataclass(frozen=True)
class ModuleCall:
    """A replacement: `module` installed at dotted `path` (in place of what was there), called with `args`."""

    path: str
    module: torch.nn.Module
    args: tuple

    def insert(self, graph_module: torch.fx.GraphModule) -> torch.fx.Node:
        graph_module.set_submodule(self.path, self.module)
        return graph_module.graph.call_module(self.path, self.args)


Replacement = Call | ModuleCall


def rewrite_each(
    graph_module: torch.fx.GraphModule,
    target: Callable,
    rewrite: Callable[[torch.fx.Node], Replacement | LeftAlone],
    *,
    pass_name: str,
    if_none_matched: str,
    details: Callable[[list[torch.fx.Node]], dict] | None = None,
) -> PassReport:
    """Rewrite every call of `target` (an op overload or a function) in graph order, then `finish` the graph.

    `rewrite(node)` returns the replacement to put where the node stands (the node's users move over to it, it
    keeps the node's metadata but the traced value, and the node is erased), or `LeftAlone(reason)`, which the
    report keeps under the node's name. When nothing calls `target` the report says `if_none_matched`.
    `details(replacements)` gets the inserted nodes once the graph is finished and gives the report's details.
    """
    report = PassReport(pass_name)
    replacements = []
    for node in calls_to(graph_module.graph, target):
        outcome = rewrite(node)
        if isinstance(outcome, LeftAlone):
            report.record(node.name, outcome)
            continue
        replacements.append(_put_in_place(graph_module, node, outcome))
        report.record(node.name)
    finish(graph_module, report, if_none_matched)
    if details is not None:
        report.details.update(details(replacements))
    return report


def finish(graph_module: torch.fx.GraphModule, report: PassReport, if_none_matched: str | None = None) -> PassReport:
    """torch.fx's ending for a pass: drop what nothing uses, check the graph, regenerate the code. A report that
    matched nothing gets `if_none_matched` as its reason (a pass that refuses such a graph raises instead)."""
    if not report.matched and if_none_matched:
        report.left_alone.append(if_none_matched)
    graph_module.graph.eliminate_dead_code()
    graph_module.graph.lint()
    graph_module.recompile()
    return report


def _put_in_place(graph_module: torch.fx.GraphModule, node: torch.fx.Node, replacement: Replacement) -> torch.fx.Node:
    with graph_module.graph.inserting_before(node):
        inserted = replacement.insert(graph_module)
    inserted.meta.update({key: value for key, value in node.meta.items() if key != "val"})
    node.replace_all_uses_with(inserted)
    graph_module.graph.erase_node(node)
    return inserted
