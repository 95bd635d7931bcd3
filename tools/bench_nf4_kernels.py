"""Benchmark: one gpt-oss experts layer at decode sizes in 4-bit: our nf4 kernels against today's compiled path
(dequantize the layer's experts, then the bf16 kernels) and against the bf16 kernels on bf16 weights.

Random weights of the gpt-oss-20b shape (32 experts, hidden and intermediate 2880, top-4) in `four_bit` storage
(NF4 codes, blocks of 64, double quantization; random codes, so no bitsandbytes is needed), random routing, no
gradients. Each path is replayed from a CUDA graph; L2 is flushed before every replay (a decode step streams a new
layer's weights each time), and each replay is timed alone with CUDA events: the median is reported, with the bytes
the path must move and that over the time, against the copy bandwidth measured on the H200 (4.3 TB/s). `--sweep`
also times other launch settings of the two nf4 kernels. Prints JSON.

    python tools/bench_nf4_kernels.py --batch-sizes 1 8 64 --sweep
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from runtime.ops import nf4_kernels  # noqa: E402
from runtime.ops.expert_kernels import BLOCK_M  # noqa: E402
from runtime.ops.four_bit import NESTED_BLOCKSIZE, FourBitFormat, dequantize_stacked  # noqa: E402
from runtime.ops.grouped_experts import expert_slots, kernel_forward  # noqa: E402
from tools import kernel_bench  # noqa: E402

COPY_BANDWIDTH = 4.3e12  # bytes/s, a device-to-device copy on the H200 (counting reads and writes)
ALPHA, LIMIT = 1.702, 7.0


def random_packed(experts: int, in_features: int, out_features: int) -> nf4_kernels.PackedMatrix:
    """A matrix of every expert in `four_bit` storage with random codes, absmaxes of about 0.03 to 0.07."""
    blocks = in_features * out_features // 64

    def codes(*shape):
        return torch.randint(0, 256, shape, dtype=torch.uint8, device="cuda")

    return nf4_kernels.PackedMatrix(
        codes=codes(experts, in_features * out_features // 2), absmax=codes(experts, blocks),
        nested_absmax=torch.full((experts, math.ceil(blocks / NESTED_BLOCKSIZE)), 0.02, device="cuda"),
        offset=torch.full((experts,), 0.05, device="cuda"),
        quant_map=torch.linspace(-1, 1, 16, device="cuda"), nested_quant_map=torch.linspace(-1, 1, 256, device="cuda"),
        blocksize=64, shape=(in_features, out_features), dtype=torch.bfloat16,
    )


def dequantized(matrix: nf4_kernels.PackedMatrix) -> torch.Tensor:
    """[E, in, out] bf16, as `NF4Experts.dequantize` makes it in a compiled step."""
    return dequantize_stacked(matrix.codes, matrix.absmax, matrix.shape, FourBitFormat(compute_dtype="bfloat16"),
                              matrix.quant_map, (matrix.nested_absmax, matrix.offset, matrix.nested_quant_map),
                              use_bitsandbytes=False)


def packed_bytes(matrix: nf4_kernels.PackedMatrix) -> int:
    """Bytes of one expert's codes and scales."""
    return sum(tensor[0].nbytes for tensor in (matrix.codes, matrix.absmax, matrix.nested_absmax))


def main() -> None:
    parser = kernel_bench.layer_shape_parser(__doc__)
    parser.add_argument("--intermediate", type=int, default=2880)
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--sweep", action="store_true", help="also time other launch settings of the nf4 kernels")
    args = parser.parse_args()
    torch.manual_seed(0)
    experts, hidden, intermediate = args.experts, args.hidden, args.intermediate
    gate_up, down = random_packed(experts, hidden, 2 * intermediate), random_packed(experts, intermediate, hidden)
    biases = (torch.randn(experts, 2 * intermediate, device="cuda", dtype=torch.bfloat16) * 0.02,
              torch.randn(experts, hidden, device="cuda", dtype=torch.bfloat16) * 0.02)
    bf16_weights = (dequantized(gate_up), biases[0], dequantized(down), biases[1])
    layer = Layer(gate_up, down, biases, bf16_weights)
    results = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
               "shape": {"experts": experts, "hidden": hidden, "intermediate": intermediate, "top_k": args.top_k},
               "nf4_launch_config": nf4_kernels.launch_config(),
               "batches": [layer.measure(batch, args.top_k, args.repeats, args.sweep) for batch in args.batch_sizes]}
    print(json.dumps(results, indent=2))


class Layer:
    """One experts layer held three ways: packed nf4, packed nf4 dequantized in a compiled step, bf16."""

    def __init__(self, gate_up, down, biases, bf16_weights) -> None:
        self.gate_up, self.down, self.biases, self.bf16_weights = gate_up, down, biases, bf16_weights
        self.experts = gate_up.codes.shape[0]
        self.today = torch.compile(self._dequantize_then_bf16_kernels, fullgraph=True, dynamic=False)

    def nf4_kernels(self, x, indices, routing_weights):
        return nf4_kernels.nf4_kernel_forward(x, indices, routing_weights, self.gate_up, self.biases[0], self.down,
                                              self.biases[1], ALPHA, LIMIT)

    def _dequantize_then_bf16_kernels(self, x, indices, routing_weights):
        weights = (dequantized(self.gate_up), self.biases[0], dequantized(self.down), self.biases[1])
        return kernel_forward(x, indices, routing_weights, *weights, ALPHA, LIMIT)

    def bf16_kernels(self, x, indices, routing_weights):
        return kernel_forward(x, indices, routing_weights, *self.bf16_weights, ALPHA, LIMIT)

    @torch.no_grad()
    def measure(self, batch: int, top_k: int, repeats: int, with_sweep: bool) -> dict:
        hidden = self.gate_up.shape[0]
        x, indices, routing_weights = kernel_bench.decode_inputs(batch, hidden, self.experts, top_k)
        active = int(indices.unique().numel())
        nf4_bytes = packed_bytes(self.gate_up) + packed_bytes(self.down)
        bf16_bytes = sum(weight[0].nbytes for weight in self.bf16_weights)
        moved = {"nf4_kernels": active * nf4_bytes,
                 "dequantize_then_bf16_kernels": self.experts * (nf4_bytes + bf16_bytes) + active * bf16_bytes,
                 "bf16_kernels": active * bf16_bytes}
        paths = {"nf4_kernels": self.nf4_kernels, "dequantize_then_bf16_kernels": self.today,
                 "bf16_kernels": self.bf16_kernels}
        reference = self.today(x, indices, routing_weights).float()
        error = kernel_bench.max_scaled_difference(self.nf4_kernels(x, indices, routing_weights).float(), reference)
        row = {"batch": batch, "active_experts": active, "nf4_vs_dequantized_max_scaled_difference": error}
        for name, function in paths.items():
            microseconds = kernel_bench.median_replay_microseconds(
                lambda function=function: function(x, indices, routing_weights), repeats)
            row[name] = {"median_us": round(microseconds, 1), "GB_moved": round(moved[name] / 1e9, 4),
                         "TB_per_s": round(moved[name] / microseconds / 1e6, 3),
                         "fraction_of_copy_bandwidth": round(moved[name] / microseconds / 1e-6 / COPY_BANDWIDTH, 3)}
        row["nf4_speedup_vs_dequantize_then_bf16"] = round(
            row["dequantize_then_bf16_kernels"]["median_us"] / row["nf4_kernels"]["median_us"], 3)
        row["nf4_speedup_vs_bf16"] = round(row["bf16_kernels"]["median_us"] / row["nf4_kernels"]["median_us"], 3)
        if with_sweep:
            row["sweep"] = self.sweep(x, indices, routing_weights, top_k, repeats, moved["nf4_kernels"])
        return row

    def sweep(self, x, indices, routing_weights, top_k, repeats, moved) -> list[dict]:
        """The best launch settings of the two nf4 kernels, each kernel timed alone."""
        slot_pair, block_expert = expert_slots(indices, self.experts, BLOCK_M)
        gate_up_tensors = (*self.gate_up.quantization_tensors(), self.gate_up.blocksize, self.biases[0])
        down_tensors = (*self.down.quantization_tensors(), self.down.blocksize, self.biases[1])
        activated = nf4_kernels.launch_gate_up(x, *gate_up_tensors, slot_pair, block_expert, top_k, ALPHA, LIMIT,
                                               nf4_kernels.launch_config())

        def measure(config: dict) -> dict:
            gate_up_us = kernel_bench.median_replay_microseconds(lambda: nf4_kernels.launch_gate_up(
                x, *gate_up_tensors, slot_pair, block_expert, top_k, ALPHA, LIMIT, config), repeats // 2)
            down_us = kernel_bench.median_replay_microseconds(lambda: nf4_kernels.launch_down(
                activated, *down_tensors, routing_weights, slot_pair, block_expert, config), repeats // 2)
            return {"gate_up_us": round(gate_up_us, 1), "down_us": round(down_us, 1),
                    "TB_per_s": round(moved / (gate_up_us + down_us) / 1e6, 3)}

        configs = [{"BLOCK_K": block_k, "num_warps": warps, "num_stages": stages}
                   for block_k, warps, stages in itertools.product((64, 128, 256), (2, 4, 8), (3, 4))]
        rows = kernel_bench.sweep_rows(configs, measure)
        return sorted(rows, key=lambda row: row.get("TB_per_s", 0), reverse=True)[:8]


if __name__ == "__main__":
    main()
