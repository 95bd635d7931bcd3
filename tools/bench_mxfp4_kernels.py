"""Benchmark: the MXFP4 expert kernels against the bf16 ones, at gpt-oss-20b's shapes. Prints JSON.

Random MXFP4 experts (32 experts, hidden and intermediate 2880, top-4; scales near those of the released
checkpoint) and their bf16 dequantization, random routing, no gradients except where the backward is timed.

- decode, per batch size: `mxfp4_gate_up_activation` and `mxfp4_down_weighted` against `expert_kernels`'
  bf16 kernels on the same slots. Each is timed over `--layers` distinct copies of the weights in one CUDA graph
  (so the weights come from memory, not L2, as in a decode step), median of the replays in `--rep-ms`, per layer.
  Bytes read count each active expert's weights once (packed bytes and scales, or bf16), its bias and the
  activations; `roofline_share` is that over the time against `--roofline-tbps`.
- prefill, `--prefill-tokens` tokens: `mxfp4_grouped_matmul` forward and its input gradient for the gate/up and
  down shapes against `torch.nn.functional.grouped_mm` on the bf16 weights, in TFLOP/s.
`--sweep` also times other tiles of the decode kernels.

    python tools/bench_mxfp4_kernels.py --batch-sizes 1 8 64 --prefill-tokens 4096
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
import triton
import triton.testing
from transformers.integrations.mxfp4 import convert_moe_packed_tensors

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.ops import expert_kernels, mxfp4_kernels  # noqa: E402
from runtime.ops.grouped_experts import Routing, expert_slots  # noqa: E402
from runtime.ops.mxfp4_grouped_gemm import mxfp4_grouped_matmul, mxfp4_grouped_matmul_input_grad  # noqa: E402
from tools import kernel_bench  # noqa: E402

ALPHA, LIMIT = 1.702, 7.0


def median_microseconds(function, rep_ms: float) -> float:
    """Median time of one replay of a CUDA graph of `function()` over about `rep_ms` of replays, after warm-up
    (Triton's do_bench_cudagraph, CUDA events)."""
    return triton.testing.do_bench_cudagraph(function, rep=rep_ms, return_mode="median") * 1000


def packed_experts(experts: int, rows: int, inner: int) -> tuple[torch.Tensor, torch.Tensor]:
    blocks = torch.randint(0, 256, (experts, rows, inner // 32, 16), dtype=torch.uint8, device="cuda")
    return blocks, torch.randint(116, 124, (experts, rows, inner // 32), dtype=torch.uint8, device="cuda")


def make_layer(experts: int, hidden: int, intermediate: int) -> dict:
    """One layer's experts: MXFP4 tensors, their bf16 dequantization [E, in, out], bf16 biases."""
    gate_up, down = packed_experts(experts, 2 * intermediate, hidden), packed_experts(experts, hidden, intermediate)
    return {"gate_up": gate_up, "down": down,
            "gate_up_bf16": convert_moe_packed_tensors(*gate_up, dtype=torch.bfloat16),
            "down_bf16": convert_moe_packed_tensors(*down, dtype=torch.bfloat16),
            "gate_up_bias": torch.randn(experts, 2 * intermediate, device="cuda", dtype=torch.bfloat16),
            "down_bias": torch.randn(experts, hidden, device="cuda", dtype=torch.bfloat16)}


def decode_kernels(layers: list[dict], x, indices, routing_weights, gate_up_config=None, down_config=None):
    """{name: function running the kernel over every layer}, for the MXFP4 and the bf16 kernels."""
    top_k, experts = indices.shape[1], layers[0]["gate_up"][0].shape[0]
    slot_pair, block_expert = expert_slots(indices, experts, expert_kernels.BLOCK_M)
    blocks = block_expert.shape[0]
    mx_gate_up = gate_up_config or mxfp4_kernels.launch_config(layers[0]["gate_up"][0].shape[1] // 2, 2, blocks)
    mx_down = down_config or mxfp4_kernels.launch_config(layers[0]["down"][0].shape[1], 1, blocks)
    bf_gate_up = expert_kernels.launch_config(layers[0]["gate_up_bf16"].shape[2] // 2)
    bf_down = expert_kernels.launch_config(layers[0]["down_bf16"].shape[2])
    activated = mxfp4_kernels.launch_gate_up(x, *layers[0]["gate_up"], layers[0]["gate_up_bias"], slot_pair,
                                             block_expert, top_k, ALPHA, LIMIT, mx_gate_up)

    def each_layer(step):
        return lambda: [step(layer) for layer in layers]

    return {
        "mxfp4_gate_up": each_layer(lambda layer: mxfp4_kernels.launch_gate_up(
            x, *layer["gate_up"], layer["gate_up_bias"], slot_pair, block_expert, top_k, ALPHA, LIMIT, mx_gate_up)),
        "mxfp4_down": each_layer(lambda layer: mxfp4_kernels.launch_down(
            activated, *layer["down"], layer["down_bias"], routing_weights, slot_pair, block_expert, mx_down)),
        "bf16_gate_up": each_layer(lambda layer: expert_kernels.launch_gate_up(
            x, layer["gate_up_bf16"], layer["gate_up_bias"], slot_pair, block_expert, top_k, ALPHA, LIMIT,
            bf_gate_up)),
        "bf16_down": each_layer(lambda layer: expert_kernels.launch_down(
            activated, layer["down_bf16"], layer["down_bias"], routing_weights, slot_pair, block_expert, bf_down)),
    }


def bytes_read(layer: dict, active: int, num_pairs: int, name: str) -> int:
    """Bytes a kernel must read at least: the active experts' weights and biases, and its activations."""
    projection = "gate_up" if "gate_up" in name else "down"
    tensors = [layer[f"{projection}_bf16"]] if name.startswith("bf16") else list(layer[projection])
    weights = sum(t[0].numel() * t.element_size() for t in tensors)
    bias = layer[f"{projection}_bias"][0].numel() * 2
    inner = layer[f"{projection}_bf16"].shape[1]
    return active * (weights + bias) + num_pairs * inner * 2


@torch.no_grad()
def measure_decode(layers: list[dict], batch: int, top_k: int, args) -> dict:
    experts, hidden = layers[0]["gate_up"][0].shape[0], layers[0]["down"][0].shape[1]
    x, indices, routing_weights = kernel_bench.decode_inputs(batch, hidden, experts, top_k)
    active = int(indices.unique().numel())
    row = {"batch": batch, "active_experts": active}
    kernels = decode_kernels(layers, x, indices, routing_weights)
    row["max_scaled_difference"] = decode_difference(layers[0], x, indices, routing_weights)
    for name, function in kernels.items():
        microseconds = median_microseconds(function, args.rep_ms) / len(layers)
        moved = bytes_read(layers[0], active, indices.numel(), name)
        row[name] = {"us": round(microseconds, 2), "GB": round(moved / 1e9, 4),
                     "GB_per_s": round(moved / microseconds / 1e3, 1),
                     "roofline_share": round(moved / microseconds / 1e6 / args.roofline_tbps, 3)}
    for projection in ("gate_up", "down"):
        row[f"{projection}_speedup_over_bf16"] = round(
            row[f"bf16_{projection}"]["us"] / row[f"mxfp4_{projection}"]["us"], 2)
    if args.sweep:
        row["sweep"] = sweep(layers, x, indices, routing_weights, args)
    return row


def decode_difference(layer: dict, x, indices, routing_weights) -> float:
    """Largest difference of the MXFP4 and the bf16 kernels' outputs on one layer, over the largest output."""
    slot_pair, block_expert = expert_slots(indices, layer["gate_up"][0].shape[0], expert_kernels.BLOCK_M)
    top_k = indices.shape[1]
    activated = mxfp4_kernels.mxfp4_gate_up_activation(x, *layer["gate_up"], layer["gate_up_bias"], slot_pair,
                                                       block_expert, top_k, ALPHA, LIMIT)
    ours = mxfp4_kernels.mxfp4_down_weighted(activated, *layer["down"], layer["down_bias"], routing_weights,
                                             slot_pair, block_expert)
    activated = expert_kernels.gate_up_activation(x, layer["gate_up_bf16"], layer["gate_up_bias"], slot_pair,
                                                  block_expert, top_k, ALPHA, LIMIT)
    theirs = expert_kernels.down_weighted(activated, layer["down_bf16"], layer["down_bias"], routing_weights,
                                          slot_pair, block_expert)
    return kernel_bench.max_scaled_difference(ours, theirs)


def sweep(layers, x, indices, routing_weights, args) -> list[dict]:
    def measure(config: dict) -> dict:
        kernels = decode_kernels(layers, x, indices, routing_weights, config, config)
        return {name: round(median_microseconds(kernels[name], 5) / len(layers), 2)
                for name in ("mxfp4_gate_up", "mxfp4_down")}

    configs = [{"BLOCK_N": block_n, "GROUPS": groups, "num_warps": warps, "num_stages": stages}
               for block_n, groups, warps, stages in itertools.product((32, 64, 128), (2, 4, 8), (4, 8), (3, 4))]
    rows = kernel_bench.sweep_rows(configs, measure)
    return sorted(rows, key=lambda row: row.get("mxfp4_gate_up", 1e9) + row.get("mxfp4_down", 1e9))


def measure_prefill(layer: dict, tokens: int, top_k: int, args) -> dict:
    experts = layer["gate_up"][0].shape[0]
    indices = kernel_bench.random_routing(tokens, experts, top_k)
    routing = Routing(indices, torch.ones(indices.shape, device="cuda"), experts)
    return {"tokens": tokens, "rows": indices.numel(),
            **{projection: measure_projection(layer, projection, routing.offsets, indices.numel(), args)
               for projection in ("gate_up", "down")}}


def measure_projection(layer: dict, projection: str, offsets: torch.Tensor, rows: int, args) -> dict:
    """The grouped GEMM forward and input gradient of one projection, ours on MXFP4 and grouped_mm on bf16."""
    blocks, scales = layer[projection]
    dense = layer[f"{projection}_bf16"]  # [E, in, out]
    x = torch.randn(rows, dense.shape[1], device="cuda", dtype=torch.bfloat16)
    grad = torch.randn(rows, dense.shape[2], device="cuda", dtype=torch.bfloat16)
    dense_transposed = dense.transpose(1, 2)
    functions = {
        "mxfp4_forward": lambda: mxfp4_grouped_matmul(x, blocks, scales, offsets),
        "mxfp4_input_grad": lambda: mxfp4_grouped_matmul_input_grad(grad, blocks, scales, offsets),
        "grouped_mm_forward": lambda: F.grouped_mm(x, dense, offs=offsets),
        "grouped_mm_input_grad": lambda: F.grouped_mm(grad, dense_transposed, offs=offsets),
    }
    entry = {}
    for name in ("forward", "input_grad"):
        reference, ours = functions[f"grouped_mm_{name}"]().float(), functions[f"mxfp4_{name}"]().float()
        entry[f"{name}_max_scaled_difference"] = kernel_bench.max_scaled_difference(ours, reference)
    flop = 2 * rows * dense.shape[1] * dense.shape[2]
    for name, function in functions.items():
        microseconds = median_microseconds(function, args.rep_ms)
        entry[name] = {"us": round(microseconds, 1), "TFLOP_per_s": round(flop / microseconds / 1e6, 1)}
    return entry


def main() -> None:
    parser = kernel_bench.layer_shape_parser(__doc__)
    parser.add_argument("--intermediate", type=int, default=2880)
    parser.add_argument("--layers", type=int, default=8, help="weight copies per timed graph (defeats L2)")
    parser.add_argument("--rep-ms", type=float, default=100, help="time spent replaying each measured graph")
    parser.add_argument("--prefill-tokens", type=int, default=4096, help="0 skips the grouped GEMM")
    parser.add_argument("--roofline-tbps", type=float, default=4.3, help="memory bandwidth to compare with")
    parser.add_argument("--sweep", action="store_true", help="also time other decode kernel tiles")
    args = parser.parse_args()
    torch.manual_seed(0)
    layers = [make_layer(args.experts, args.hidden, args.intermediate) for _ in range(args.layers)]
    results = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
               "decode": [measure_decode(layers, batch, args.top_k, args) for batch in args.batch_sizes]}
    if args.prefill_tokens:
        results["prefill"] = measure_prefill(layers[0], args.prefill_tokens, args.top_k, args)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
