"""Graph passes, one per file, each named as on the command line (`--passes flex_sink,kv_offset`).

`CANONICAL_ORDER` is the default pipeline: every pass the project has, in the order they compose.
`driver` (the loop every pass runs on) and `matching` (what passes match with) are shared helpers, not passes.
"""

from rewrite.graph_pass import GraphPass

from . import (
    combo_kernels,
    embedding_module,
    flex_sink,
    kv_offset,
    layer_modules,
    linear_modules,
    moe_grouped,
    quantize_mxfp4,
    quantize_nf4,
)

REGISTRY: dict[str, GraphPass] = {
    module.PASS.name: module.PASS for module in (
        flex_sink, kv_offset, moe_grouped, linear_modules, embedding_module, layer_modules, combo_kernels,
        quantize_nf4, quantize_mxfp4,
    )
}

# combo_kernels is left out of the default: on the H200 it did not speed up decoding (docs/benchmarks.md).
# quantize_nf4 and quantize_mxfp4 are lossy: `rewrite build --quantize nf4|mxfp4` appends them
# (rewrite.pipeline.QUANTIZE_PASSES).
CANONICAL_ORDER: list[str] = [
    "flex_sink", "kv_offset", "moe_grouped", "linear_modules", "embedding_module", "layer_modules"
]
# Always run, last among the requested passes: they make the module calls the manifest declares by role
# (rewrite.module_roles), which generation, the trainer and FSDP need.
STRUCTURE_PASSES: list[str] = ["linear_modules", "embedding_module", "layer_modules"]

__all__ = ["CANONICAL_ORDER", "REGISTRY", "STRUCTURE_PASSES"]
