"""combo_kernels: ask inductor to fuse independent small kernels of a step into combined launches.

Matches: nothing in the graph; a decode step is many small independent kernels (per-layer norms,
routers, rotary, sink rescaling) that inductor can horizontally fuse when `combo_kernels` is on.
Produces: the inductor options the runtime compiles with, recorded in the graph module's meta and from
there in the manifest (`runtime.inductor_options`); `runtime.generate` applies them when it compiles the
decode step. The graph itself is unchanged.
Keeps: outputs unchanged (compilation options only). Whether it pays is measured by
`tools/bench_generate.py --compare-combo-kernels`; see docs/benchmarks.md for why it is or is not in
the default pipeline.
"""

from __future__ import annotations

import torch

from rewrite.graph_pass import GraphPass, PassReport
from rewrite.spec import RUNTIME_META_KEY

NAME = "combo_kernels"
INDUCTOR_OPTIONS = {"combo_kernels": True, "benchmark_combo_kernel": True}


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    runtime = graph_module.meta.setdefault(RUNTIME_META_KEY, {})
    runtime.setdefault("inductor_options", {}).update(INDUCTOR_OPTIONS)
    return PassReport(NAME, matched=0, replaced=0, details={"inductor_options": dict(INDUCTOR_OPTIONS)})


PASS = GraphPass(NAME, apply, "record inductor combo-kernel options for the runtime's compiled decode step")
