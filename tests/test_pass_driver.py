"""The driver every pass runs on and the owner matcher they share: what a pass may rely on."""

import torch

from passes.driver import Call, ModuleCall, rewrite_each
from passes.matching import attribute_owner
from rewrite.graph_pass import LeftAlone


class _TwoReluNet(torch.nn.Module):
    def forward(self, x):
        return torch.relu(x) + torch.relu(-x)


class _LinearByWeights(torch.nn.Module):
    """Reads a linear's weights as attributes, as torch.export leaves every nn.Linear."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(3, 2)
        self.other = torch.nn.Linear(3, 2)

    def forward(self, x):
        return torch.nn.functional.linear(x, self.proj.weight, self.proj.bias)


def _traced(module: torch.nn.Module) -> torch.fx.GraphModule:
    return torch.fx.symbolic_trace(module)


def _get_attrs(graph_module: torch.fx.GraphModule) -> dict[str, torch.fx.Node]:
    return {node.target: node for node in graph_module.graph.nodes if node.op == "get_attr"}


def test_each_call_is_replaced_where_it_stood_keeping_its_metadata():
    graph_module = _traced(_TwoReluNet())
    for node in graph_module.graph.nodes:
        node.meta.update(marker=node.name, val="traced value")
    report = rewrite_each(graph_module, torch.relu, lambda node: Call(torch.sigmoid, node.args),
                          pass_name="relu_to_sigmoid", if_none_matched="no relu")
    assert (report.matched, report.replaced, report.left_alone) == (2, 2, [])
    sigmoids = [node for node in graph_module.graph.nodes if node.target is torch.sigmoid]
    assert [node.meta["marker"] for node in sigmoids] == ["relu", "relu_1"], "metadata moves to the replacement"
    assert all("val" not in node.meta for node in sigmoids), "the traced value is the old node's, not kept"
    x = torch.randn(5)
    torch.testing.assert_close(graph_module(x), torch.sigmoid(x) + torch.sigmoid(-x))


def test_nodes_left_alone_are_counted_and_named_with_their_reason():
    graph_module = _traced(_TwoReluNet())

    def only_the_first(node):
        return Call(torch.sigmoid, node.args) if node.name == "relu" else LeftAlone("not the first")

    report = rewrite_each(graph_module, torch.relu, only_the_first, pass_name="first", if_none_matched="no relu")
    assert (report.matched, report.replaced) == (2, 1)
    assert report.left_alone == ["relu_1: not the first"]
    assert "left alone 1 (relu_1: not the first)" in report.summary()


def test_a_graph_without_the_target_is_unchanged_and_the_report_says_why():
    graph_module = _traced(_TwoReluNet())
    code = graph_module.code
    report = rewrite_each(graph_module, torch.tanh, lambda node: Call(torch.sigmoid, node.args),
                          pass_name="tanh", if_none_matched="no tanh in this graph")
    assert (report.matched, report.replaced, report.left_alone) == (0, 0, ["no tanh in this graph"])
    assert graph_module.code == code


def test_details_see_the_replacements_in_the_finished_graph():
    graph_module = _traced(_TwoReluNet())
    report = rewrite_each(
        graph_module, torch.relu, lambda node: Call(torch.sigmoid, node.args), pass_name="relu", if_none_matched="",
        details=lambda calls: {"names": [call.name for call in calls], "in_graph": all(call.graph for call in calls)},
    )
    assert report.details == {"names": ["sigmoid", "sigmoid_1"], "in_graph": True}


def test_a_module_call_installs_the_module_at_its_path_and_dead_attribute_reads_go():
    graph_module = _traced(_LinearByWeights())
    weight = graph_module.get_parameter("proj.weight")

    def as_module(node):
        inputs, *_ = node.args
        linear = torch.nn.Linear(3, 2)
        linear.weight, linear.bias = weight, graph_module.get_parameter("proj.bias")
        return ModuleCall("proj", linear, (inputs,))

    x = torch.randn(4, 3)
    expected = graph_module(x)
    report = rewrite_each(graph_module, torch.nn.functional.linear, as_module, pass_name="linear", if_none_matched="")
    assert report.replaced == 1
    assert [node.op for node in graph_module.graph.nodes] == ["placeholder", "call_module", "output"]
    assert graph_module.get_submodule("proj").weight is weight
    torch.testing.assert_close(graph_module(x), expected)


def test_attribute_owner_is_the_module_path_when_every_attribute_is_its_own():
    attributes = _get_attrs(_traced(_LinearByWeights()))
    weight, bias = attributes["proj.weight"], attributes["proj.bias"]
    assert attribute_owner(weight=weight, bias=bias) == "proj"
    assert attribute_owner(weight=weight, bias=None) == "proj", "an absent optional attribute is no obstacle"
    assert attribute_owner(weight=weight) == "proj"


def test_attribute_owner_is_none_when_the_attributes_do_not_fit_one_module():
    graph_module = _traced(_LinearByWeights())
    attributes = _get_attrs(graph_module)
    weight, bias = attributes["proj.weight"], attributes["proj.bias"]
    with graph_module.graph.inserting_before(weight):
        other_bias = graph_module.graph.create_node("get_attr", "other.bias")
        top_level = graph_module.graph.create_node("get_attr", "weight")
    placeholder = next(iter(graph_module.graph.nodes))
    assert attribute_owner(weight=weight, bias=other_bias) is None, "the bias belongs to another module"
    assert attribute_owner(weight=bias) is None, "the attribute has another name"
    assert attribute_owner(weight=placeholder) is None, "not an attribute read"
    assert attribute_owner(weight=top_level) is None, "no module owns a top-level attribute"
    assert attribute_owner(weight=None) is None, "nothing to own"
