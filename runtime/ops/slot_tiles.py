"""The device side every grouped-GEMV decode kernel of the experts shares around its product (`expert_kernels`,
`mxfp4_kernels`, `nf4_kernels`): its block's expert and pairs, the activation, the routing weights, the output rows.

A launch (`slot_launch`) runs program (i, j) on block i of BLOCK_M expert-sorted slots and output tile j. Block i
holds pairs of expert `block_expert[i]` only, -1 past the used slots, where the kernel returns at once; a padding
slot holds num_pairs. These helpers are inlined where they are called, so a kernel compiles as if written out whole.
"""

from __future__ import annotations

import triton
import triton.language as tl


@triton.jit
def block_expert(block_expert_ptr):
    """int64 expert of this program's block of slots; negative past the used slots, where the kernel returns."""
    return tl.load(block_expert_ptr + tl.program_id(0)).to(tl.int64)


@triton.jit
def block_pairs(slot_pair_ptr, num_pairs, BLOCK_M: tl.constexpr):
    """(slots, pairs, valid) of this program's block of BLOCK_M slots: the pair in each slot, and whether it holds
    one (padding slots hold num_pairs)."""
    slots = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    pairs = tl.load(slot_pair_ptr + slots)
    return slots, pairs, pairs < num_pairs


@triton.jit
def block_tokens(slot_pair_ptr, num_pairs, top_k: tl.constexpr, BLOCK_M: tl.constexpr):
    """(slots, tokens, valid): `block_pairs` with the token of each pair (int64), the rows a gate/up kernel reads."""
    slots, pairs, valid = block_pairs(slot_pair_ptr, num_pairs, BLOCK_M)
    return slots, (pairs // top_k).to(tl.int64), valid


@triton.jit
def clamped_swiglu(gate, up, alpha, limit):
    """gpt-oss's activation of float32 gate and up tiles of one shape."""
    gate = tl.minimum(gate, limit)
    up = tl.minimum(tl.maximum(up, -limit), limit)
    return (up + 1.0) * (gate * tl.sigmoid(gate * alpha))


@triton.jit
def clamped_swiglu_tile(gate_up, alpha, limit, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """gpt-oss's activation of a float32 [BLOCK_M, 2 * BLOCK_N] tile of interleaved gate/up columns -> [BLOCK_M,
    BLOCK_N]."""
    gate, up = tl.split(tl.reshape(gate_up, (BLOCK_M, BLOCK_N, 2)))
    return clamped_swiglu(gate, up, alpha, limit)


@triton.jit
def row_pointers(out_ptr, rows, stride_out, columns):
    """Pointers [len(rows), len(columns)] to out[rows, columns], out's rows `stride_out` apart; row offsets in int64."""
    return out_ptr + rows[:, None].to(tl.int64) * stride_out + columns[None, :]


@triton.jit
def tile_columns(WIDTH: tl.constexpr, size):
    """(columns, columns_ok): the WIDTH output columns of this program's tile j, and which of them are < size."""
    columns = tl.program_id(1) * WIDTH + tl.arange(0, WIDTH)
    return columns, columns < size


@triton.jit
def store_activated(out_ptr, slots, valid, stride_out, gate_up, alpha, limit, intermediate_size: tl.constexpr,
                    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """The epilogue of a gate/up kernel whose tile holds interleaved gate/up columns: out[slots, tile j of BLOCK_N
    columns] = `clamped_swiglu_tile(gate_up)` in out's dtype, where `valid` and inside I."""
    activated = clamped_swiglu_tile(gate_up, alpha, limit, BLOCK_M, BLOCK_N)
    columns, columns_ok = tile_columns(BLOCK_N, intermediate_size)
    tl.store(row_pointers(out_ptr, slots, stride_out, columns), activated.to(out_ptr.dtype.element_ty),
             mask=valid[:, None] & columns_ok[None, :])


@triton.jit
def routing_weights_of(routing_weight_ptr, pairs, valid):
    """float32 routing weight of each pair (zero where not `valid`), by which a down kernel scales its rows."""
    return tl.load(routing_weight_ptr + pairs, mask=valid, other=0.0).to(tl.float32)


@triton.jit
def store_weighted(out_ptr, pairs, valid, stride_out, accumulator, columns, columns_ok, routing_weight_ptr):
    """The epilogue of a down kernel: out[pairs, columns] = accumulator * the pairs' routing weights, float32, where
    `valid` and `columns_ok`."""
    routing_weight = routing_weights_of(routing_weight_ptr, pairs, valid)
    tl.store(row_pointers(out_ptr, pairs, stride_out, columns), accumulator * routing_weight[:, None],
             mask=valid[:, None] & columns_ok[None, :])
