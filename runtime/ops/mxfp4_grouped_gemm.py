"""Grouped GEMM over gpt-oss experts kept in MXFP4, for prefill and training: weight tiles dequantized on chip,
bf16 tensor-core products, float32 accumulation; no full-precision copy of any expert.

`mxfp4_grouped_matmul(x_sorted, blocks, scales, offsets, bias)` is `grouped_mm(x_sorted, W.transpose(1, 2), offs=
offsets)` for W [E, out, in] the dequantized experts: rows offsets[e - 1] .. offsets[e] of x_sorted (sorted by
expert, as `grouped_experts.Routing` orders them; offsets int32 cumulative counts) times expert e's transposed
weight, plus its bias row `bias[e]` when given (added to the float32 accumulator: no [rows, out] tensor of gathered
biases, no second rounding). It is differentiable with respect to x_sorted only (the MXFP4 base is frozen): the
backward is grad_y @ W, each tile of W dequantized along its rows' packed dimension, in another launch of the same
kernel.
Both are torch.library custom ops, so torch.compile traces through them and autograd reaches x.

Tiles: each expert's run of rows is cut into tiles of BLOCK_M rows, numbered in expert order; the grid has room
for the most tiles any routing of N rows can make, and programs past the last tile exit at once. Column tiles
vary fastest, so the programs of one row tile run together and find its rows in L2.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from runtime.ops.mxfp4_kernels import check_packed
from runtime.ops.mxfp4_tiles import GROUP_SIZE, dequantized_tile, ptx_decodes, tile_factor


@triton.jit
def _row_tile(offsets_ptr, num_experts, BLOCK_M: tl.constexpr, EXPERTS: tl.constexpr):
    """(expert, first row, end row) of this program's tile of rows; expert >= num_experts past the last tile."""
    experts = tl.arange(0, EXPERTS)
    present = experts < num_experts
    ends = tl.load(offsets_ptr + experts, mask=present, other=0)
    starts = tl.load(offsets_ptr + experts - 1, mask=present & (experts > 0), other=0)
    tiles = tl.where(present, tl.cdiv(ends - starts, BLOCK_M), 0)
    tile_ends = tl.cumsum(tiles, 0)
    tile = tl.program_id(1)
    expert = tl.sum((tile_ends <= tile).to(tl.int32))  # experts whose tiles all come before this one
    mine = experts == expert
    first_tile = tl.sum(tl.where(mine, tile_ends - tiles, 0))
    first_row = tl.sum(tl.where(mine, starts, 0)) + (tile - first_tile) * BLOCK_M
    return expert, first_row, tl.sum(tl.where(mine, ends, 0))


@triton.jit
def _grouped_kernel(
    a_ptr, blocks_ptr, scales_ptr, offsets_ptr, bias_ptr, out_ptr, num_experts, weight_rows, packed_size,
    inner_size: tl.constexpr, out_size, stride_a_row, stride_a_column, stride_out_row,
    CONTRACT_PACKED: tl.constexpr, HAS_BIAS: tl.constexpr, EXPERTS: tl.constexpr, PTX: tl.constexpr,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):
    """out[rows of expert e] = a[rows] @ W[e].T (CONTRACT_PACKED: the sum runs along the packed dimension) or
    a[rows] @ W[e] (it runs along W's rows); W[e] is [weight_rows, packed_size] in MXFP4; HAS_BIAS adds the
    row bias[e] ([E, out_size], contiguous)."""
    expert, first_row, end_row = _row_tile(offsets_ptr, num_experts, BLOCK_M, EXPERTS)
    if expert >= num_experts:
        return
    rows = first_row + tl.arange(0, BLOCK_M)
    rows_ok = rows < end_row
    rows = rows.to(tl.int64)
    columns = tl.program_id(0) * BLOCK_N + tl.arange(0, BLOCK_N)
    columns_ok = columns < out_size
    num_groups = packed_size // 32
    expert_blocks = blocks_ptr + expert.to(tl.int64) * weight_rows * (packed_size // 2)
    expert_scales = scales_ptr + expert.to(tl.int64) * weight_rows * num_groups
    accumulator = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for start in range(0, inner_size, BLOCK_K):
        inner = start + tl.arange(0, BLOCK_K)
        inner_ok = inner < inner_size
        a = tl.load(a_ptr + rows[:, None] * stride_a_row + inner[None, :] * stride_a_column,
                    mask=rows_ok[:, None] & inner_ok[None, :], other=0.0)
        if CONTRACT_PACKED:
            weight = tl.trans(dequantized_tile(expert_blocks, expert_scales, columns, columns_ok, start // 32,
                                               num_groups, BLOCK_K // 32, a_ptr.dtype.element_ty, PTX))
        else:
            weight = dequantized_tile(expert_blocks, expert_scales, inner, inner_ok, tl.program_id(0) * BLOCK_N // 32,
                                      num_groups, BLOCK_N // 32, a_ptr.dtype.element_ty, PTX)
        accumulator += tl.dot(a, weight)
    result = accumulator * tile_factor(PTX)
    if HAS_BIAS:
        bias = tl.load(bias_ptr + expert.to(tl.int64) * out_size + columns, mask=columns_ok, other=0.0)
        result += bias.to(tl.float32)[None, :]
    tl.store(out_ptr + rows[:, None] * stride_out_row + columns[None, :], result.to(out_ptr.dtype.element_ty),
             mask=rows_ok[:, None] & columns_ok[None, :])


# BLOCK_K (forward) and BLOCK_N (backward) run along the packed dimension: multiples of 32
LAUNCH_CONFIG = {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "num_warps": 8, "num_stages": 3}


def launch_grouped(a: torch.Tensor, blocks: torch.Tensor, scales: torch.Tensor, offsets: torch.Tensor,
                   contract_packed: bool, config: dict, bias: torch.Tensor | None = None) -> torch.Tensor:
    """a [N, inner] sorted by expert -> [N, out] (+ bias[e] [E, out] on expert e's rows); the contraction runs along
    the packed dimension of the [E, rows, packed] weights (forward) or along their rows (backward)."""
    num_experts, weight_rows, packed_size = blocks.shape[0], blocks.shape[1], blocks.shape[2] * GROUP_SIZE
    inner_size, out_size = (packed_size, weight_rows) if contract_packed else (weight_rows, packed_size)
    out = a.new_empty(a.shape[0], out_size)
    if a.shape[0] == 0:
        return out
    grid = (triton.cdiv(out_size, config["BLOCK_N"]), a.shape[0] // config["BLOCK_M"] + min(num_experts, a.shape[0]))
    _grouped_kernel[grid](
        a, blocks, scales, offsets, out if bias is None else bias.contiguous(), out, num_experts, weight_rows,
        packed_size, inner_size, out_size, a.stride(0), a.stride(1), out.stride(0), CONTRACT_PACKED=contract_packed,
        HAS_BIAS=bias is not None, EXPERTS=triton.next_power_of_2(num_experts), PTX=ptx_decodes(a), **config,
    )
    return out


@torch.library.custom_op("gpt_oss_rewrite_runtime::mxfp4_grouped_matmul", mutates_args=())
def mxfp4_grouped_matmul(
    x_sorted: torch.Tensor, blocks: torch.Tensor, scales: torch.Tensor, offsets: torch.Tensor,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """[N, out] in x's dtype: x_sorted [N, in] times each expert's dequantized [out, in] weight, transposed, for
    the rows offsets[e - 1] .. offsets[e], plus bias[e] when given; blocks [E, out, in/32, 16], scales
    [E, out, in/32], offsets [E] int32, bias [E, out] (frozen: no gradient reaches it)."""
    check_packed(blocks, scales, x_sorted.shape[1], "mxfp4_grouped_matmul")
    return launch_grouped(x_sorted, blocks, scales, offsets, True, LAUNCH_CONFIG, bias)


@mxfp4_grouped_matmul.register_fake
def _(x_sorted, blocks, scales, offsets, bias=None):
    check_packed(blocks, scales, x_sorted.shape[1], "mxfp4_grouped_matmul")
    return x_sorted.new_empty(x_sorted.shape[0], blocks.shape[1])


@torch.library.custom_op("gpt_oss_rewrite_runtime::mxfp4_grouped_matmul_input_grad", mutates_args=())
def mxfp4_grouped_matmul_input_grad(
    grad_out: torch.Tensor, blocks: torch.Tensor, scales: torch.Tensor, offsets: torch.Tensor
) -> torch.Tensor:
    """[N, in] in grad's dtype: grad_out [N, out] times each expert's dequantized [out, in] weight."""
    return launch_grouped(grad_out, blocks, scales, offsets, False, LAUNCH_CONFIG)


@mxfp4_grouped_matmul_input_grad.register_fake
def _(grad_out, blocks, scales, offsets):
    return grad_out.new_empty(grad_out.shape[0], blocks.shape[2] * GROUP_SIZE)


def _setup_context(ctx, inputs, output) -> None:
    _, blocks, scales, offsets, _ = inputs
    ctx.save_for_backward(blocks, scales, offsets)


def _backward(ctx, grad_out):
    blocks, scales, offsets = ctx.saved_tensors
    return mxfp4_grouped_matmul_input_grad(grad_out, blocks, scales, offsets), None, None, None, None


mxfp4_grouped_matmul.register_autograd(_backward, setup_context=_setup_context)
