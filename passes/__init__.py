"""Graph passes, one per file, each named as on the command line (`--passes flex_sink,kv_offset`).

`CANONICAL_ORDER` is the default pipeline: every pass the project has, in the order they compose.
"""

from rewrite.report import GraphPass

from . import (
    combo_kernels,
    embedding_module,
    flex_sink,
    kv_offset,
    layer_modules,
    linear_modules,
    moe_grouped,
    quantize_nf4,
)

REGISTRY: dict[str, GraphPass] = {
    module.PASS.name: module.PASS for module in (
        flex_sink, kv_offset, moe_grouped, linear_modules, embedding_module, layer_modules, combo_kernels, quantize_nf4
    )
}

# combo_kernels is left out of the default: on the H200 it did not speed up decoding (docs/benchmarks.md).
# quantize_nf4 is lossy: `rewrite build --quantize nf4` appends it to the passes (rewrite.build.QUANTIZE_PASSES).
CANONICAL_ORDER: list[str] = [
    "flex_sink", "kv_offset", "moe_grouped", "linear_modules", "embedding_module", "layer_modules"
]

__all__ = ["CANONICAL_ORDER", "REGISTRY"]
