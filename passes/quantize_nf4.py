"""quantize_nf4: attention projections and experts stored in bitsandbytes' 4-bit NF4, dequantized inside the ops.

Matches: the modules the graph calls that `QUANTIZED_BY_DEFAULT` names: `nn.Linear` at paths ending in q_proj,
k_proj, v_proj or o_proj (linear_modules makes them) and `GroupedExperts` (moe_grouped makes them), so it runs
after both. `apply(graph_module, modules=...)` picks other linears too (e.g. "lm_head", "router").
Produces: the same call_module nodes of `runtime.ops.nf4_linear.NF4Linear` (bitsandbytes' Linear4bit) and
`runtime.ops.nf4_experts.NF4Experts` (each expert's matrices quantized on their own with `quantize_4bit`, one expert
dequantized at a time in the op): NF4 codes, blocks of 64 values, double quantization, compute in the model's dtype.
Router, norms, sinks, embedding and lm_head stay in the model's dtype. The graph's meta records the format and
the modules (`QUANTIZATION_META_KEY`, the manifest's "quantization").
Keeps: outputs equal to the previous stage run on the dequantized weights (`dequantized` swaps those weights in;
the 4-bit ops compute exactly on them). The pipeline verifies the stage that way, with the dtype's tolerance, and
records the quantization's own error against the previous stage as `details["error_vs_previous_stage"]`.
"""

from __future__ import annotations

import torch

from rewrite.errors import PassError
from rewrite.graph_pass import GraphPass, PassReport
from rewrite.manifest import BITSANDBYTES_4BIT
from rewrite.spec import QUANTIZATION_META_KEY, graph_spec
from runtime.ops.four_bit import FourBitFormat
from runtime.ops.grouped_experts import GroupedExperts

from .driver import finish
from .quantized_modules import dequantized, module_bytes

NAME = "quantize_nf4"
QUANTIZED_BY_DEFAULT = ("q_proj", "k_proj", "v_proj", "o_proj", "experts")


def _targets(graph_module: torch.fx.GraphModule, modules: tuple[str, ...]) -> list[tuple[str, torch.nn.Module]]:
    return [
        (path, module) for path, module in graph_module.named_modules()
        if path.rpartition(".")[2] in modules
        and (type(module) is torch.nn.Linear or isinstance(module, GroupedExperts))
    ]


def apply(graph_module: torch.fx.GraphModule, modules: tuple[str, ...] = QUANTIZED_BY_DEFAULT) -> PassReport:
    from runtime.ops.nf4_experts import NF4Experts  # imports bitsandbytes, or says how to install it
    from runtime.ops.nf4_linear import NF4Linear

    report = PassReport(NAME)
    four_bit_format = FourBitFormat(compute_dtype=graph_spec(graph_module).dtype)
    targets = _targets(graph_module, modules)
    if not targets:
        raise PassError(
            f"{NAME} found no module to quantize ({', '.join(modules)}): run it after linear_modules and moe_grouped, "
            "as `rewrite build --quantize nf4` does with the default passes"
        )
    bytes_before = bytes_after = 0
    for path, module in targets:
        bytes_before += module_bytes(module)
        quantize = NF4Linear.quantize if type(module) is torch.nn.Linear else NF4Experts.quantize
        quantized = quantize(module, four_bit_format)
        bytes_after += module_bytes(quantized)
        graph_module.set_submodule(path, quantized)
        report.record(path)
    quantized_paths = [path for path, _ in targets]
    graph_module.meta[QUANTIZATION_META_KEY] = {
        "method": BITSANDBYTES_4BIT, "format": four_bit_format.to_json(), "modules": quantized_paths,
    }
    report.details.update(format=four_bit_format.to_json(), modules=len(quantized_paths),
                          bytes_before=bytes_before, bytes_after=bytes_after)
    return finish(graph_module, report)


PASS = GraphPass(
    NAME, apply, "attention projections and experts in bitsandbytes 4-bit NF4", exact_reference=dequantized
)
