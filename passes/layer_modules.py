"""layer_modules: each decoder layer -> its own `torch.fx.GraphModule` at `model.layers.<i>`, called once.

Matches: for each layer i, the nodes traced inside `model.layers.<i>` (export's `nn_module_stack`), the
attributes and submodules under that path, and nodes without a module stack (inserted by passes) whose
inputs come from that one layer.
Produces: a GraphModule at `model.layers.<i>` that owns the layer's parameters and called submodules
(`nn.Linear`, grouped experts, 4-bit linears: whatever is there) under the same relative names, so state
dict keys (`model.layers.0.self_attn.q_proj.weight`) and peft's target names do not change. The top graph
calls it once; its inputs are the values it reads from outside (hidden state, RoPE cos/sin, mask
description, its own key and value cache, sizes), its outputs the values read outside (the hidden state,
the updated caches). Node names are renumbered per layer, so layers of one structure get identical code
and an emitted checkpoint holds one class per distinct layer. FSDP2's `fully_shard` and per-layer
gradient checkpointing need each layer to be a called module.
Keeps: outputs bit-identical (the same nodes run in the same order). A layer whose nodes cannot be cut out
(an outside node both reads from it and feeds it, or reads its attributes) is left alone and reported.
"""

from __future__ import annotations

import operator
import re

import torch
from torch._inductor.pattern_matcher import stable_topological_sort
from torch.fx.passes.utils.fuser_utils import validate_partition

from rewrite.graph_pass import GraphPass, LeftAlone, PassReport

from .driver import finish
from .matching import layer_index

NAME = "layer_modules"
LAYER_CLASS_NAME = "GptOssDecoderLayer"


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    report = PassReport(NAME)
    extracted = []
    for index, nodes in sorted(_layer_members(graph_module.graph).items()):
        prefix = f"model.layers.{index}"
        left_alone = _why_not_extractable(graph_module, prefix, nodes)
        if left_alone is None:
            _extract(graph_module, prefix, nodes)
            extracted.append(prefix)
        report.record(prefix, left_alone)
    stable_topological_sort(graph_module.graph)  # outside users of a layer's outputs now follow its call
    finish(graph_module, report, "no node of this graph was traced in a decoder layer: nothing to cut out")
    report.details["distinct_layer_codes"] = len({graph_module.get_submodule(prefix).code for prefix in extracted})
    return report


def _layer_of(node: torch.fx.Node) -> int | None:
    if node.op in ("get_attr", "call_module"):
        match = re.match(r"model\.layers\.(\d+)\.", node.target)
        return int(match.group(1)) if match else None
    return layer_index(node)


def _layer_members(graph: torch.fx.Graph) -> dict[int, list[torch.fx.Node]]:
    """Layer -> its computing nodes in graph order (get_attr nodes are re-created inside, not moved)."""
    layers: dict[torch.fx.Node, int] = {}
    for node in graph.nodes:
        if node.op not in ("call_function", "call_method", "call_module"):
            continue
        index = _layer_of(node)
        if index is None and not node.meta.get("nn_module_stack"):
            sources = {layers.get(source) for source in node.all_input_nodes} - {None}
            index = sources.pop() if len(sources) == 1 else None
        if index is not None:
            layers[node] = index
    members: dict[int, list[torch.fx.Node]] = {}
    for node, index in layers.items():
        members.setdefault(index, []).append(node)
    return members


def _why_not_extractable(
    graph_module: torch.fx.GraphModule, prefix: str, nodes: list[torch.fx.Node]
) -> LeftAlone | None:
    if not validate_partition(nodes):
        return LeftAlone("a node outside the layer both reads from it and feeds it")
    inside = set(nodes)
    for node in graph_module.graph.nodes:
        reads_layer_attribute = node.op in ("get_attr", "call_module") and node.target.startswith(prefix + ".")
        if reads_layer_attribute and node not in inside and any(user not in inside for user in node.users):
            return LeftAlone(f"{node.name} outside the layer uses its attribute {node.target}")
    return None


def _extract(graph_module: torch.fx.GraphModule, prefix: str, nodes: list[torch.fx.Node]) -> None:
    """Move `nodes` into a GraphModule at `prefix` and call it where the last of them stood."""
    inside = set(nodes)
    layer_graph = torch.fx.Graph()
    copies: dict[torch.fx.Node, torch.fx.Node] = {}
    for node in nodes:
        for source in node.all_input_nodes:
            if source not in inside and source not in copies and not _is_own_attribute(source, prefix):
                copies[source] = _input(layer_graph, source)
    inputs = list(copies)
    for node in nodes:
        for source in node.all_input_nodes:
            if source not in copies:  # an attribute of this layer, read at its relative name
                copies[source] = layer_graph.get_attr(_relative(source.target, prefix))
        copies[node] = _copy_into(layer_graph, node, prefix, copies)
    outputs = [node for node in nodes if any(user not in inside for user in node.users)]
    layer_graph.output(tuple(copies[node] for node in outputs))
    layer = torch.fx.GraphModule(graph_module.get_submodule(prefix), layer_graph, class_name=LAYER_CLASS_NAME)
    graph_module.set_submodule(prefix, layer)
    graph = graph_module.graph
    with graph.inserting_after(nodes[-1]):
        call = graph.call_module(prefix, tuple(inputs))
    result = call
    for position, node in enumerate(outputs):
        with graph.inserting_after(result):
            result = graph.call_function(operator.getitem, (call, position))
        result.meta.update({key: value for key, value in node.meta.items() if key != "nn_module_stack"})
        node.replace_all_uses_with(result, delete_user_cb=lambda user: user not in inside)
    for node in reversed(nodes):
        graph.erase_node(node)


def _input(layer_graph: torch.fx.Graph, source: torch.fx.Node) -> torch.fx.Node:
    """A placeholder for an outside value: named after a graph input it is (`key_cache`), else `arg`, so
    that the name does not depend on which layer produced it."""
    placeholder = layer_graph.placeholder(_numberless(source.name) if source.op == "placeholder" else "arg")
    placeholder.target = placeholder.name  # the argument name, numbered when repeated
    return placeholder


def _copy_into(layer_graph: torch.fx.Graph, node: torch.fx.Node, prefix: str, copies: dict) -> torch.fx.Node:
    """`node` in the layer graph: arguments mapped, submodule targets relative, name without its number."""
    if node.op == "call_module":
        target = _relative(node.target, prefix)
        name = target.replace(".", "_")
    else:
        target, name = node.target, _numberless(node.name)
    args, kwargs = torch.fx.map_arg((node.args, node.kwargs), copies.__getitem__)
    copy = layer_graph.create_node(node.op, target, args, kwargs, name=name, type_expr=node.type)
    copy.meta = dict(node.meta)
    return copy


def _is_own_attribute(node: torch.fx.Node, prefix: str) -> bool:
    return node.op == "get_attr" and node.target.startswith(prefix + ".")


def _relative(target: str, prefix: str) -> str:
    return target.removeprefix(prefix + ".")


def _numberless(name: str) -> str:
    """`mul_21` -> `mul`: the layer graph's namespace numbers names again, the same way in every layer."""
    return re.sub(r"_\d+$", "", name)


PASS = GraphPass(NAME, apply, "each decoder layer -> a GraphModule submodule called once, same parameter names")
