"""Benchmark: one gpt-oss experts layer at decode sizes, grouped_mm against our Triton kernels.

Random bf16 weights of the gpt-oss-20b shape (32 experts, hidden and intermediate 2880, top-4), random
routing, no gradients. For each batch size, times `grouped_forward` (sort + two torch grouped_mm, the path
transformers' grouped_mm experts take) and `kernel_forward` (our Triton kernels) with CUDA events over
replayed CUDA graphs, and reports microseconds per layer and the bandwidth of reading each active expert's
weights once. `--sweep` also times other tile shapes of the two kernels. Prints JSON.

    python tools/bench_experts.py --batch-sizes 1 8 64 --sweep
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.ops import expert_kernels  # noqa: E402
from runtime.ops.grouped_experts import Routing, expert_slots, grouped_forward, kernel_forward  # noqa: E402


def graphed_microseconds(function, repeats: int = 50) -> float:
    """Mean time of `function()` replayed from a CUDA graph (as the engine's decode step runs it)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            function()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        function()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    graph.replay()
    start.record()
    for _ in range(repeats):
        graph.replay()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) * 1000 / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--experts", type=int, default=32)
    parser.add_argument("--top-k", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=2880)
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
    x = torch.randn(batch, hidden, device="cuda", dtype=torch.bfloat16)
    indices = torch.stack([torch.randperm(experts, device="cuda")[:top_k] for _ in range(batch)])
    routing_weights = torch.softmax(torch.randn(batch, top_k, device="cuda"), -1).to(torch.bfloat16)
    active = int(indices.unique().numel())
    moved = active * sum(w[0].numel() * w.element_size() for w in weights)

    def grouped():
        return grouped_forward(x, Routing(indices, routing_weights, experts), *weights, 1.702, 7.0)

    def kernels():
        return kernel_forward(x, indices, routing_weights, *weights, 1.702, 7.0)

    reference = grouped().float()
    error = ((kernels().float() - reference).abs().max() / reference.abs().max()).item()
    row = {"batch": batch, "active_experts": active, "max_scaled_difference": error}
    for name, function in (("grouped_mm", grouped), ("triton", kernels)):
        microseconds = graphed_microseconds(function)
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
    rows = []
    for block_n, block_k, warps, stages in itertools.product((32, 64, 128), (64, 128, 256), (4, 8), (3, 5)):
        config = {"BLOCK_N": block_n, "BLOCK_K": block_k, "num_warps": warps, "num_stages": stages}
        try:
            gate_up_us = graphed_microseconds(lambda config=config: expert_kernels.launch_gate_up(
                x, gate_up, gate_up_bias, slot_pair, block_expert, top_k, 1.702, 7.0, config), repeats=20)
            down_us = graphed_microseconds(lambda config=config: expert_kernels.launch_down(
                activated, down, down_bias, routing_weights, slot_pair, block_expert, config), repeats=20)
        except Exception as error:  # a tile that does not fit shared memory: report and go on
            rows.append({**config, "error": type(error).__name__})
            continue
        rows.append({**config, "gate_up_us": round(gate_up_us, 1), "down_us": round(down_us, 1),
                     "GB_per_s": round(moved / (gate_up_us + down_us) / 1e3, 1)})
    return sorted(rows, key=lambda row: row.get("GB_per_s", 0), reverse=True)[:8]


if __name__ == "__main__":
    main()
