"""Triton kernels for 4-bit (bitsandbytes NF4/FP4) gpt-oss experts when each expert sees few tokens (decoding): the
grouped GEMVs of `expert_kernels`, reading each active expert's packed codes once and dequantizing them in registers.

Storage (`runtime.ops.four_bit`, `NF4Experts`): expert e's matrix [in, out], flattened row-major, is packed two codes
a byte (the even column in the high half), in blocks of `blocksize` consecutive values, each block with one absmax;
double-quantized absmaxes are uint8 codes decoded as `nested_quant_map[code] * nested_absmax[block // 256] +
offset[e]`. A program reads a tile of whole bytes of each input row that lies inside one block (its width divides
half a block and the row's bytes), so one absmax per row scales the tile: the high halves are the weight's even
columns and the low halves its odd ones, two products that the kernel joins or, for gate_up, whose interleaved
gate (even) and up (odd) columns they already are. A weight is `quant_map[code] * absmax` in float32, rounded to
the activations' dtype, as `dequantize_stacked` makes it (the compiler may fuse the absmax's product and sum into one
multiply-add), so the numbers are those of the full-precision kernels on the dequantized weights up to that and the
order of the float32 sums.

- `nf4_gate_up_activation`: slots -> clamped SwiGLU(hidden[token] @ W_gate_up[e] + bias[e]), [slots, I] in the
  hidden states' dtype (`expert_kernels.gate_up_activation`'s contract).
- `nf4_down_weighted`: [slots, I] -> (act @ W_down[e] + bias[e]) * routing weight, float32 [T*k, H], at the pair's own
  index (`expert_kernels.down_weighted`'s contract).
Inference only (no autograd).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import triton
import triton.language as tl

from runtime.ops import slot_tiles
from runtime.ops.four_bit import NESTED_BLOCKSIZE
from runtime.ops.grouped_experts import expert_slots
from runtime.ops.slot_launch import BLOCK_M, down_output, gate_up_output, launch_down_kernel, launch_gate_up_kernel

MAX_TILE_BYTES = 64
MIN_TILE_BYTES = 16  # tl.dot takes at least 16 columns
MAX_PAIRS_PER_EXPERT = 16  # on average, as `grouped_experts.kernels_apply`: beyond, grouped matmuls win


class PackedMatrix(NamedTuple):
    """One matrix [in, out] of every expert in `four_bit` storage, as `NF4Experts` keeps it; the nested fields are
    None when the absmaxes are not double-quantized."""

    codes: torch.Tensor  # uint8 [E, in * out / 2]
    absmax: torch.Tensor  # [E, blocks]: uint8 codes when double-quantized, else float32
    nested_absmax: torch.Tensor | None  # float32 [E, ceil(blocks / 256)]
    offset: torch.Tensor | None  # float32 [E]
    quant_map: torch.Tensor  # float32 [16]
    nested_quant_map: torch.Tensor | None  # float32 [256]
    blocksize: int
    shape: tuple[int, int]  # (in, out)
    dtype: torch.dtype  # what the weights dequantize to

    def quantization_tensors(self) -> tuple:
        """(codes, absmax, nested_absmax, offset, quant_map, nested_quant_map): the ops' arguments in their order."""
        return self.codes, self.absmax, self.nested_absmax, self.offset, self.quant_map, self.nested_quant_map


def tile_bytes(out_features: int, blocksize: int) -> int | None:
    """Bytes per input row of a program's tile: the widest power of two up to MAX_TILE_BYTES that divides both a
    row's bytes and half a block (so a tile never straddles two blocks); None when it would be under
    MIN_TILE_BYTES, or rows do not hold whole bytes."""
    if out_features % 2:
        return None
    row_bytes, width = out_features // 2, MAX_TILE_BYTES
    while width >= MIN_TILE_BYTES and (row_bytes % width or (blocksize // 2) % width):
        width //= 2
    return width if width >= MIN_TILE_BYTES else None


def nf4_kernels_apply(hidden_states: torch.Tensor, router_indices: torch.Tensor, gate_up: PackedMatrix,
                      down: PackedMatrix) -> bool:
    """The kernels serve CUDA inference in 16-bit floats that the weights dequantize to, with at most 16 pairs per
    expert on average (decoding), for matrices whose rows split into tiles (`tile_bytes`)."""
    return (
        hidden_states.is_cuda
        and hidden_states.dtype == gate_up.dtype == down.dtype in (torch.bfloat16, torch.float16)
        and not torch.is_grad_enabled()
        and router_indices.numel() <= MAX_PAIRS_PER_EXPERT * gate_up.codes.shape[0]
        and all(tile_bytes(matrix.shape[1], matrix.blocksize) is not None for matrix in (gate_up, down))
    )


def nf4_kernel_forward(
    hidden_states: torch.Tensor,
    router_indices: torch.Tensor,
    routing_weights: torch.Tensor,
    gate_up: PackedMatrix,
    gate_up_bias: torch.Tensor,
    down: PackedMatrix,
    down_bias: torch.Tensor,
    alpha: float,
    limit: float,
) -> torch.Tensor:
    """[T, H] experts output with the two kernels (`nf4_kernels_apply` says when they serve)."""
    num_tokens, top_k = router_indices.shape
    slot_pair, block_expert = expert_slots(router_indices, gate_up.codes.shape[0], BLOCK_M)
    activated = nf4_gate_up_activation(hidden_states, *gate_up.quantization_tensors(), gate_up.blocksize,
                                       gate_up_bias, slot_pair, block_expert, top_k, alpha, limit)
    pair_outputs = nf4_down_weighted(activated, *down.quantization_tensors(), down.blocksize, down_bias,
                                     routing_weights, slot_pair, block_expert)
    return pair_outputs.view(num_tokens, top_k, -1).sum(1).to(hidden_states.dtype)


@triton.jit
def _packed_product(
    a_ptr, a_rows, stride_a, valid, codes_ptr, absmax_ptr, nested_absmax_ptr, offset_ptr, quant_map_ptr,
    nested_quant_map_ptr, column_start, inner_size, row_bytes,
    HALF_BLOCK: tl.constexpr, NESTED: tl.constexpr, NESTED_BLOCK: tl.constexpr,
    BLOCK_M: tl.constexpr, TILE: tl.constexpr, BLOCK_K: tl.constexpr,
):
    """float32 ([BLOCK_M, TILE], [BLOCK_M, TILE]): rows `a_rows` of A (zero where not `valid`) @ one expert's
    dequantized weight, at its even and its odd columns 2 * (column_start + j) and 2 * (column_start + j) + 1."""
    even = tl.zeros((BLOCK_M, TILE), dtype=tl.float32)
    odd = tl.zeros((BLOCK_M, TILE), dtype=tl.float32)
    offset = 0.0
    if NESTED:
        offset = tl.load(offset_ptr)
    # the code book by whole byte: the float32 bits of the high half's value over the low half's, one gather per byte
    # from a table that Triton keeps in shared memory (a load from global memory per value would be pipelined as one
    # asynchronous copy per value, many times slower)
    byte_values = tl.arange(0, 256)
    high_bits = tl.load(quant_map_ptr + (byte_values >> 4)).to(tl.uint32, bitcast=True).to(tl.uint64)
    low_bits = tl.load(quant_map_ptr + (byte_values & 15)).to(tl.uint32, bitcast=True).to(tl.uint64)
    table = (high_bits << 32) | low_bits
    for start in range(0, inner_size, BLOCK_K):
        rows = start + tl.arange(0, BLOCK_K)
        rows_ok = rows < inner_size
        a = tl.load(a_ptr + a_rows[:, None] * stride_a + rows[None, :], mask=valid[:, None] & rows_ok[None, :],
                    other=0.0)
        first_byte = rows.to(tl.int64) * row_bytes + column_start
        block = first_byte // HALF_BLOCK
        if NESTED:
            absmax_code = tl.load(absmax_ptr + block, mask=rows_ok, other=0).to(tl.int32)
            nested_absmax = tl.load(nested_absmax_ptr + block // NESTED_BLOCK, mask=rows_ok, other=0.0)
            absmax = tl.load(nested_quant_map_ptr + absmax_code) * nested_absmax + offset
        else:
            absmax = tl.load(absmax_ptr + block, mask=rows_ok, other=0.0)
        packed = tl.load(codes_ptr + first_byte[:, None] + tl.arange(0, TILE)[None, :], mask=rows_ok[:, None],
                         other=0)
        index = tl.reshape(packed.to(tl.int32), (BLOCK_K * TILE,))
        pair = tl.reshape(tl.gather(table, index, 0), (BLOCK_K, TILE))
        high = (pair >> 32).to(tl.uint32).to(tl.float32, bitcast=True) * absmax[:, None]
        low = (pair & 0xFFFFFFFF).to(tl.uint32).to(tl.float32, bitcast=True) * absmax[:, None]
        even += tl.dot(a, high.to(a_ptr.dtype.element_ty))
        odd += tl.dot(a, low.to(a_ptr.dtype.element_ty))
    return even, odd


@triton.jit
def _gate_up_kernel(
    hidden_ptr, codes_ptr, absmax_ptr, nested_absmax_ptr, offset_ptr, quant_map_ptr, nested_quant_map_ptr,
    bias_ptr, out_ptr, slot_pair_ptr, block_expert_ptr,
    num_pairs, top_k: tl.constexpr, hidden_size: tl.constexpr, intermediate_size: tl.constexpr,
    stride_hidden, stride_codes, stride_absmax, stride_nested, stride_bias, stride_out, alpha, limit,
    HALF_BLOCK: tl.constexpr, NESTED: tl.constexpr, NESTED_BLOCK: tl.constexpr,
    BLOCK_M: tl.constexpr, TILE: tl.constexpr, BLOCK_K: tl.constexpr,
):
    expert = slot_tiles.block_expert(block_expert_ptr)
    if expert < 0:
        return
    slots, tokens, valid = slot_tiles.block_tokens(slot_pair_ptr, num_pairs, top_k, BLOCK_M)
    column_start = tl.program_id(1) * TILE  # a row of gate_up holds 2I values, I bytes: byte j is column j's gate/up
    gate, up = _packed_product(
        hidden_ptr, tokens, stride_hidden, valid, codes_ptr + expert * stride_codes,
        absmax_ptr + expert * stride_absmax, nested_absmax_ptr + expert * stride_nested, offset_ptr + expert,
        quant_map_ptr, nested_quant_map_ptr, column_start, hidden_size, intermediate_size,
        HALF_BLOCK, NESTED, NESTED_BLOCK, BLOCK_M, TILE, BLOCK_K,
    )
    columns = column_start + tl.arange(0, TILE)
    bias = bias_ptr + expert * stride_bias + 2 * columns
    activated = slot_tiles.clamped_swiglu(gate + tl.load(bias).to(tl.float32)[None, :],
                                          up + tl.load(bias + 1).to(tl.float32)[None, :], alpha, limit)
    tl.store(slot_tiles.row_pointers(out_ptr, slots, stride_out, columns), activated.to(out_ptr.dtype.element_ty),
             mask=valid[:, None])


@triton.jit
def _down_kernel(
    activated_ptr, codes_ptr, absmax_ptr, nested_absmax_ptr, offset_ptr, quant_map_ptr, nested_quant_map_ptr,
    bias_ptr, routing_weight_ptr, out_ptr, slot_pair_ptr, block_expert_ptr,
    num_pairs, intermediate_size: tl.constexpr, hidden_size: tl.constexpr,
    stride_activated, stride_codes, stride_absmax, stride_nested, stride_bias, stride_out,
    HALF_BLOCK: tl.constexpr, NESTED: tl.constexpr, NESTED_BLOCK: tl.constexpr,
    BLOCK_M: tl.constexpr, TILE: tl.constexpr, BLOCK_K: tl.constexpr,
):
    expert = slot_tiles.block_expert(block_expert_ptr)
    if expert < 0:
        return
    slots, pairs, valid = slot_tiles.block_pairs(slot_pair_ptr, num_pairs, BLOCK_M)
    column_start = tl.program_id(1) * TILE
    even, odd = _packed_product(
        activated_ptr, slots.to(tl.int64), stride_activated, valid, codes_ptr + expert * stride_codes,
        absmax_ptr + expert * stride_absmax, nested_absmax_ptr + expert * stride_nested, offset_ptr + expert,
        quant_map_ptr, nested_quant_map_ptr, column_start, intermediate_size, hidden_size // 2,
        HALF_BLOCK, NESTED, NESTED_BLOCK, BLOCK_M, TILE, BLOCK_K,
    )
    bias = bias_ptr + expert * stride_bias + 2 * (column_start + tl.arange(0, TILE))
    even += tl.load(bias).to(tl.float32)[None, :]
    odd += tl.load(bias + 1).to(tl.float32)[None, :]
    routing_weight = slot_tiles.routing_weights_of(routing_weight_ptr, pairs, valid)
    result = tl.reshape(tl.join(even, odd), (BLOCK_M, 2 * TILE)) * routing_weight[:, None]
    columns = 2 * column_start + tl.arange(0, 2 * TILE)
    tl.store(slot_tiles.row_pointers(out_ptr, pairs, stride_out, columns), result, mask=valid[:, None])


def launch_config() -> dict:
    """Rows per step and Triton's launch settings of both kernels (`tools/bench_nf4_kernels.py --sweep`)."""
    return {"BLOCK_K": 128, "num_warps": 4, "num_stages": 4}


def _packed_arguments(codes, absmax, nested_absmax, offset, quant_map, nested_quant_map, blocksize: int) -> dict:
    """The kernels' pointer, stride and constexpr arguments of one packed matrix; without double quantization the
    nested pointers are `absmax`'s, never read."""
    nested = nested_absmax is not None
    return dict(
        codes_ptr=codes, absmax_ptr=absmax, nested_absmax_ptr=nested_absmax if nested else absmax,
        offset_ptr=offset if nested else absmax, quant_map_ptr=quant_map,
        nested_quant_map_ptr=nested_quant_map if nested else quant_map,
        stride_codes=codes.stride(0), stride_absmax=absmax.stride(0),
        stride_nested=nested_absmax.stride(0) if nested else 0,
        HALF_BLOCK=blocksize // 2, NESTED=nested, NESTED_BLOCK=NESTED_BLOCKSIZE,
    )


def launch_gate_up(hidden_states, codes, absmax, nested_absmax, offset, quant_map, nested_quant_map, blocksize,
                   bias, slot_pair, block_expert, top_k, alpha, limit, config: dict) -> torch.Tensor:
    intermediate_size = bias.shape[1] // 2
    tile = tile_bytes(2 * intermediate_size, blocksize)
    return launch_gate_up_kernel(
        _gate_up_kernel, hidden_states, slot_pair, block_expert, top_k, alpha, limit, intermediate_size,
        intermediate_size // tile, bias_ptr=bias, hidden_size=hidden_states.shape[1],
        stride_hidden=hidden_states.stride(0), stride_bias=bias.stride(0), TILE=tile,
        **_packed_arguments(codes, absmax, nested_absmax, offset, quant_map, nested_quant_map, blocksize), **config,
    )


def launch_down(activated, codes, absmax, nested_absmax, offset, quant_map, nested_quant_map, blocksize, bias,
                routing_weights, slot_pair, block_expert, config: dict) -> torch.Tensor:
    hidden_size = bias.shape[1]
    tile = tile_bytes(hidden_size, blocksize)
    return launch_down_kernel(
        _down_kernel, activated, routing_weights, slot_pair, block_expert, hidden_size, hidden_size // 2 // tile,
        bias_ptr=bias, intermediate_size=activated.shape[1], stride_activated=activated.stride(0),
        stride_bias=bias.stride(0), TILE=tile,
        **_packed_arguments(codes, absmax, nested_absmax, offset, quant_map, nested_quant_map, blocksize), **config,
    )


@torch.library.custom_op("gpt_oss_rewrite_runtime::nf4_gate_up_activation", mutates_args=())
def nf4_gate_up_activation(
    hidden_states: torch.Tensor, codes: torch.Tensor, absmax: torch.Tensor, nested_absmax: torch.Tensor | None,
    offset: torch.Tensor | None, quant_map: torch.Tensor, nested_quant_map: torch.Tensor | None, blocksize: int,
    bias: torch.Tensor, slot_pair: torch.Tensor, block_expert: torch.Tensor, top_k: int, alpha: float, limit: float,
) -> torch.Tensor:
    return launch_gate_up(hidden_states, codes, absmax, nested_absmax, offset, quant_map, nested_quant_map,
                          blocksize, bias, slot_pair, block_expert, top_k, alpha, limit, launch_config())


@nf4_gate_up_activation.register_fake
def _(hidden_states, codes, absmax, nested_absmax, offset, quant_map, nested_quant_map, blocksize, bias, slot_pair,
      block_expert, top_k, alpha, limit):
    return gate_up_output(hidden_states, slot_pair, bias.shape[1] // 2)


@torch.library.custom_op("gpt_oss_rewrite_runtime::nf4_down_weighted", mutates_args=())
def nf4_down_weighted(
    activated: torch.Tensor, codes: torch.Tensor, absmax: torch.Tensor, nested_absmax: torch.Tensor | None,
    offset: torch.Tensor | None, quant_map: torch.Tensor, nested_quant_map: torch.Tensor | None, blocksize: int,
    bias: torch.Tensor, routing_weights: torch.Tensor, slot_pair: torch.Tensor, block_expert: torch.Tensor,
) -> torch.Tensor:
    return launch_down(activated, codes, absmax, nested_absmax, offset, quant_map, nested_quant_map, blocksize, bias,
                       routing_weights, slot_pair, block_expert, launch_config())


@nf4_down_weighted.register_fake
def _(activated, codes, absmax, nested_absmax, offset, quant_map, nested_quant_map, blocksize, bias,
      routing_weights, slot_pair, block_expert):
    return down_output(activated, routing_weights, bias.shape[1])
