"""FX graphs as networkx DiGraphs, and the difference between two of them in terms a reviewer reads.

A node's *kind* is `op:target` with targets printed stably (`call_function:aten.linear.default`,
`get_attr:*` for weights, whose names are not structure). The diff counts kinds added and removed,
names nodes present in both graphs whose target changed (retargeted), and counts data edges between
kinds that appeared or vanished. `summary()` is the text golden files hold; `to_json()` the data.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import torch

from .errors import CheckpointError
from .manifest import GRAPH_STRUCTURE_NAME, read_manifest


def node_kind(node: torch.fx.Node) -> str:
    if node.op in ("placeholder", "output"):
        return node.op
    if node.op == "get_attr":
        return "get_attr:*"
    target = node.target
    if isinstance(target, str):
        name = target
    elif isinstance(target, torch._ops.OpOverload | torch._ops.OpOverloadPacket):
        name = str(target)
    else:
        name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"
    return f"{node.op}:{name}"


def to_networkx(graph_module: torch.fx.GraphModule | torch.fx.Graph) -> nx.DiGraph:
    """One networkx node per FX node (attribute `kind`), one edge per data dependency.

    The graphs of called GraphModules (the layer modules) are included, their nodes named `PATH/name`:
    the call's arguments feed their placeholders and their output feeds the call, so the whole model is
    one data-flow graph."""
    digraph = nx.DiGraph()
    _add_graph(digraph, graph_module, "")
    return digraph


def _add_graph(digraph: nx.DiGraph, graph_module: torch.fx.GraphModule | torch.fx.Graph, prefix: str) -> None:
    graph = graph_module.graph if isinstance(graph_module, torch.fx.GraphModule) else graph_module
    for node in graph.nodes:
        digraph.add_node(prefix + node.name, kind=node_kind(node))
        for source in node.all_input_nodes:
            digraph.add_edge(prefix + source.name, prefix + node.name)
        called = graph_module.get_submodule(node.target) if node.op == "call_module" else None
        if isinstance(called, torch.fx.GraphModule):
            inner = f"{prefix}{node.target}/"
            _add_graph(digraph, called, inner)
            placeholders = [item for item in called.graph.nodes if item.op == "placeholder"]
            for argument, placeholder in zip(node.args, placeholders, strict=True):
                digraph.add_edge(prefix + argument.name, inner + placeholder.name)
            digraph.add_edge(inner + called.graph.output_node().name, prefix + node.name)


@dataclass
class GraphDiff:
    added: dict[str, int]
    removed: dict[str, int]
    retargeted: dict[str, int]
    edges_added: dict[str, int]
    edges_removed: dict[str, int]
    nodes_before: int
    nodes_after: int

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.removed or self.retargeted or self.edges_added or self.edges_removed)

    def to_json(self) -> dict:
        return dict(self.__dict__)

    def summary(self) -> str:
        lines = [f"nodes: {self.nodes_before} -> {self.nodes_after}"]
        if self.unchanged:
            return lines[0] + "\nno structural change\n"
        for title, table in (
            ("added", self.added),
            ("removed", self.removed),
            ("retargeted", self.retargeted),
            ("edges added", self.edges_added),
            ("edges removed", self.edges_removed),
        ):
            if table:
                lines.append(f"{title}:")
                lines.extend(f"  {count:>4} x {kind}" for kind, count in sorted(table.items()))
        return "\n".join(lines) + "\n"


def diff(before: torch.fx.GraphModule | nx.DiGraph, after: torch.fx.GraphModule | nx.DiGraph) -> GraphDiff:
    before = before if isinstance(before, nx.DiGraph) else to_networkx(before)
    after = after if isinstance(after, nx.DiGraph) else to_networkx(after)
    kinds_before = Counter(kind for _, kind in before.nodes(data="kind"))
    kinds_after = Counter(kind for _, kind in after.nodes(data="kind"))
    retargeted = Counter(
        f"{before.nodes[name]['kind']} -> {after.nodes[name]['kind']}"
        for name in set(before.nodes) & set(after.nodes)
        if before.nodes[name]["kind"] != after.nodes[name]["kind"]
    )
    edges_before, edges_after = _edge_kinds(before), _edge_kinds(after)
    return GraphDiff(
        added=dict(kinds_after - kinds_before),
        removed=dict(kinds_before - kinds_after),
        retargeted=dict(retargeted),
        edges_added=dict(edges_after - edges_before),
        edges_removed=dict(edges_before - edges_after),
        nodes_before=before.number_of_nodes(),
        nodes_after=after.number_of_nodes(),
    )


def _edge_kinds(graph: nx.DiGraph) -> Counter:
    return Counter(f"{graph.nodes[a]['kind']} -> {graph.nodes[b]['kind']}" for a, b in graph.edges)


def diff_json(graph_diff: GraphDiff) -> str:
    return json.dumps(graph_diff.to_json(), indent=2, sort_keys=True)


def read_structure(checkpoint_directory) -> nx.DiGraph:
    """The graph structure an emitted checkpoint stores in `graph.json`."""
    directory = Path(checkpoint_directory)
    read_manifest(directory)
    path = directory / GRAPH_STRUCTURE_NAME
    if not path.is_file():
        raise CheckpointError(f"{path} is missing; rebuild the checkpoint with `rewrite build`")
    data = json.loads(path.read_text())
    return nx.node_link_graph(data, directed=True, edges="edges")
