"""quantize_mxfp4: the experts in MXFP4, as OpenAI ships gpt-oss; dequantized on chip inside the op.

Matches: every `GroupedExperts` module the graph calls (moe_grouped makes them), so it runs after moe_grouped.
Produces: `runtime.ops.mxfp4_experts.MXFP4Experts` at the same paths: each expert's matrices quantized on their own
to MXFP4 by the OCP MX rules (e2m1 values in blocks of 32 along the input dimension, one e8m0 scale per block;
`runtime.ops.mxfp4_format.quantize_mxfp4`), biases in the model's dtype. Attention, router, norms, sinks, embedding
and lm_head keep the model's dtype. A graph on the meta device (a streaming build, `rewrite.streaming_build`) gets
meta tensors of the packed shapes; the build fills them, from a checkpoint's own blocks and scales when it has them
(kept bit for bit). The graph's meta records the method and the modules (`QUANTIZATION_META_KEY`).
Keeps: outputs equal to the previous stage run on the dequantized weights (`dequantized`; the op computes exactly
on them), the quantization's own error against the previous stage kept as `details["error_vs_previous_stage"]`.
"""

from __future__ import annotations

import torch

from rewrite.errors import PassError
from rewrite.graph_pass import GraphPass, PassReport
from rewrite.manifest import MXFP4_METHOD
from rewrite.spec import QUANTIZATION_META_KEY
from runtime.ops.grouped_experts import GroupedExperts
from runtime.ops.mxfp4_experts import MXFP4Experts
from runtime.ops.mxfp4_format import BLOCK_SIZE
from runtime.ops.nf4_experts import MATRICES

from .driver import finish
from .quantized_modules import dequantized, module_bytes

NAME = "quantize_mxfp4"


def apply(graph_module: torch.fx.GraphModule) -> PassReport:
    report = PassReport(NAME)
    targets = [(path, module) for path, module in graph_module.named_modules() if isinstance(module, GroupedExperts)]
    if not targets:
        raise PassError(f"{NAME} found no grouped experts to quantize: run it after moe_grouped, as "
                        "`rewrite build --quantize mxfp4` does with the default passes")
    bytes_before = bytes_after = 0
    for path, experts in targets:
        quantized = _packed_on_meta(experts) if experts.gate_up_proj.is_meta else MXFP4Experts.from_grouped(experts)
        bytes_before += module_bytes(experts)
        bytes_after += module_bytes(quantized)
        graph_module.set_submodule(path, quantized)
        report.record(path)
    paths = [path for path, _ in targets]
    graph_module.meta[QUANTIZATION_META_KEY] = {"method": MXFP4_METHOD,
                                                "format": {"quant_type": "mxfp4", "block_size": BLOCK_SIZE},
                                                "modules": paths}
    report.details.update(modules=len(paths), bytes_before=bytes_before, bytes_after=bytes_after)
    return finish(graph_module, report)


def _packed_on_meta(experts: GroupedExperts) -> MXFP4Experts:
    """MXFP4 experts of `experts`' shapes with meta tensors: [E, in, out] -> blocks [E, out, in / 32, 16] and
    scales [E, out, in / 32]."""
    tensors = {}
    for name in MATRICES:
        weight = getattr(experts, name)
        count, inputs, outputs = weight.shape
        tensors[name] = torch.empty(count, outputs, inputs // BLOCK_SIZE, BLOCK_SIZE // 2, dtype=torch.uint8,
                                    device="meta")
        tensors[f"{name}_scales"] = torch.empty(count, outputs, inputs // BLOCK_SIZE, dtype=torch.uint8, device="meta")
        tensors[f"{name}_bias"] = getattr(experts, f"{name}_bias").detach()
    return MXFP4Experts(tensors, experts.alpha, experts.limit)


PASS = GraphPass(NAME, apply, "experts in MXFP4, OpenAI's released format", exact_reference=dequantized)
