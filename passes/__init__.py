"""Graph passes, one per file, each named as on the command line (`--passes flex_sink,kv_offset`).

`CANONICAL_ORDER` is the default pipeline: every pass the project has, in the order they compose.
"""

from rewrite.report import GraphPass

from . import combo_kernels, flex_sink, kv_offset, linear_modules, moe_grouped

REGISTRY: dict[str, GraphPass] = {
    module.PASS.name: module.PASS for module in (flex_sink, kv_offset, moe_grouped, linear_modules, combo_kernels)
}

# combo_kernels is left out of the default: on the H200 it did not speed up decoding (docs/benchmarks.md).
CANONICAL_ORDER: list[str] = ["flex_sink", "kv_offset", "moe_grouped", "linear_modules"]

__all__ = ["CANONICAL_ORDER", "REGISTRY"]
