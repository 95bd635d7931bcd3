"""Benchmark: one gpt-oss experts layer at decode sizes, grouped_mm against our Triton kernels.

Random bf16 weights of the gpt-oss-20b shape (32 experts, hidden and intermediate 2880, top-4), random
routing, no gradients. For each batch size, times `grouped_forward` (sort + two torch grouped_mm, the path
transformers' grouped_mm experts take) and `kernel_forward` (our Triton kernels) with CUDA events over
replayed CUDA graphs, and reports microseconds per layer and the bandwidth of reading each active expert's
weights once. `--sweep` also times other tile shapes of the two kernels. Prints JSON.

    python tools/bench_experts.py --batch-sizes 1 8 64 --sweep
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.ops import expert_kernels  # noqa: E402
from runtime.ops.grouped_experts import Routing, expert_slots, grouped_forward, kernel_forward  # noqa: E402
from tools import kernel_bench  # noqa: E402


def main() -> None:
    parser = kernel_bench.layer_shape_parser(__doc__)
    parser.add_argument("--sweep", action="store_true", help="also time other kernel tile shapes")
    args = parser.parse_args()
    torch.manual_seed(0)
    experts, hidden, top_k = args.experts, args.hidden, args.top_k
    shapes = ((experts, hidden, 2 * hidden), (experts, 2 * hidden), (experts, hidden, hidden), (experts, hidden))
    weights = tuple(torch.randn(shape, device="cuda", dtype=torch.bfloat16) * 0.02 for shape in shapes)
    results = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
               "batches": [measure(batch, weights, top_k, args.sweep) for batch in args.batch_sizes]}
    print(json.dumps(results, indent=2))


@torch.no_grad()
def measure(batch: int, weights: tuple, top_k: int, with_sweep: bool) -> dict:
    experts, hidden = weights[0].shape[0], weights[0].shape[1]
    x, indices, routing_weights = kernel_bench.decode_inputs(batch, hidden, experts, top_k)
    active = int(indices.unique().numel())
    moved = active * sum(w[0].numel() * w.element_size() for w in weights)

    def grouped():
        return grouped_forward(x, Routing(indices, routing_weights, experts), *weights, 1.702, 7.0)

    def kernels():
        return kernel_forward(x, indices, routing_weights, *weights, 1.702, 7.0)

    reference = grouped().float()
    error = kernel_bench.max_scaled_difference(kernels().float(), reference)
    row = {"batch": batch, "active_experts": active, "max_scaled_difference": error}
    for name, function in (("grouped_mm", grouped), ("triton", kernels)):
        microseconds = kernel_bench.mean_replay_microseconds(function, repeats=50)
        row[name] = {"us": round(microseconds, 1), "GB_per_s": round(moved / microseconds / 1e3, 1)}
    row["speedup"] = round(row["grouped_mm"]["us"] / row["triton"]["us"], 3)
    if with_sweep:
        row["sweep"] = sweep(x, indices, routing_weights, weights, top_k, moved)
    return row


def sweep(x, indices, routing_weights, weights, top_k, moved) -> list[dict]:
    gate_up, gate_up_bias, down, down_bias = weights
    slot_pair, block_expert = expert_slots(indices, gate_up.shape[0], expert_kernels.BLOCK_M)
    activated = expert_kernels.launch_gate_up(x, gate_up, gate_up_bias, slot_pair, block_expert, top_k, 1.702, 7.0,
                                              expert_kernels.launch_config(gate_up.shape[2] // 2))

    def measure(config: dict) -> dict:
        gate_up_us = kernel_bench.mean_replay_microseconds(lambda: expert_kernels.launch_gate_up(
            x, gate_up, gate_up_bias, slot_pair, block_expert, top_k, 1.702, 7.0, config), repeats=20)
        down_us = kernel_bench.mean_replay_microseconds(lambda: expert_kernels.launch_down(
            activated, down, down_bias, routing_weights, slot_pair, block_expert, config), repeats=20)
        return {"gate_up_us": round(gate_up_us, 1), "down_us": round(down_us, 1),
                "GB_per_s": round(moved / (gate_up_us + down_us) / 1e3, 1)}

    configs = [{"BLOCK_N": block_n, "BLOCK_K": block_k, "num_warps": warps, "num_stages": stages}
               for block_n, block_k, warps, stages in itertools.product((32, 64, 128), (64, 128, 256), (4, 8), (3, 5))]
    rows = kernel_bench.sweep_rows(configs, measure)
    return sorted(rows, key=lambda row: row.get("GB_per_s", 0), reverse=True)[:8]


if __name__ == "__main__":
    main()
