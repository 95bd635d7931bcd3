"""combo_kernels records inductor options for the runtime and leaves the graph alone."""

import json

from passes import combo_kernels
from rewrite import build, load
from rewrite.graphdiff import diff, to_networkx
from runtime.generate import supported_inductor_options
from tests.golden_files import assert_matches_golden


def test_combo_kernels_changes_no_node(tiny_graph, update_golden):
    before = to_networkx(tiny_graph)
    report = combo_kernels.apply(tiny_graph)
    assert report.details["inductor_options"]["combo_kernels"] is True
    assert diff(before, tiny_graph).unchanged
    assert_matches_golden("combo_kernels", diff(before, tiny_graph).summary(), update_golden)


def test_options_reach_the_manifest_and_the_loaded_module(tmp_path):
    out = build(tmp_path / "out", preset="tiny", passes="flex_sink,kv_offset,combo_kernels", verify=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["runtime"]["inductor_options"] == combo_kernels.INDUCTOR_OPTIONS
    assert load(out).runtime_options["inductor_options"]["combo_kernels"] is True


def test_options_this_torch_lacks_are_dropped():
    assert supported_inductor_options({"combo_kernels": True, "no_such_option": 1}) == {"combo_kernels": True}
