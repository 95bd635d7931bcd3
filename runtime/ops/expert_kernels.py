"""Triton kernels for gpt-oss experts when each expert sees few tokens (decoding): bandwidth-bound grouped GEMV.

The (token, expert) pairs are laid out in expert-sorted *slots*, each expert's run padded to a multiple of
BLOCK_M, so that one program block holds rows of one expert only (`ExpertSlots`). A program reads its expert's
weight tile once for all its rows; blocks past the used slots exit at once. Shapes are static for a given
number of tokens, so the kernels replay inside CUDA graphs.

- `gate_up_activation`: slots -> clamped SwiGLU(hidden[token] @ gate_up_proj[e] + bias[e]), [slots, I] in the
  weights' dtype; the gate/up columns are interleaved as transformers stores them and split in registers.
- `down_weighted`: [slots, I] -> (act @ down_proj[e] + bias[e]) * routing weight, float32, written at the pair's
  own index (token * k + slot), so the top-k sum is a plain reshape and sum.
Accumulation is float32 throughout. Inference only (no autograd): training uses grouped matmuls.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

BLOCK_M = 16


@triton.jit
def _expert_product(
    a_ptr, a_rows, stride_a, valid, weight_ptr, stride_weight_row, bias_ptr, columns, columns_ok,
    inner_size: tl.constexpr, BLOCK_M: tl.constexpr, WIDTH: tl.constexpr, BLOCK_K: tl.constexpr,
):
    """float32 [BLOCK_M, WIDTH]: rows `a_rows` of A (zero where not `valid`) @ one expert's weight columns + bias."""
    accumulator = tl.zeros((BLOCK_M, WIDTH), dtype=tl.float32)
    for start in range(0, inner_size, BLOCK_K):
        rows = start + tl.arange(0, BLOCK_K)
        rows_ok = rows < inner_size
        a = tl.load(a_ptr + a_rows[:, None] * stride_a + rows[None, :], mask=valid[:, None] & rows_ok[None, :],
                    other=0.0)
        b = tl.load(weight_ptr + rows[:, None].to(tl.int64) * stride_weight_row + columns[None, :],
                    mask=rows_ok[:, None] & columns_ok[None, :], other=0.0)
        accumulator += tl.dot(a, b)
    bias = tl.load(bias_ptr + columns, mask=columns_ok, other=0.0)
    return accumulator + bias.to(tl.float32)[None, :]


@triton.jit
def block_pairs(slot_pair_ptr, num_pairs, BLOCK_M: tl.constexpr):
    """(slots, pairs, valid) of this program's block of BLOCK_M slots: the pair in each slot, and whether it holds
    one (padding slots hold num_pairs)."""
    slots = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    pairs = tl.load(slot_pair_ptr + slots)
    return slots, pairs, pairs < num_pairs


@triton.jit
def clamped_swiglu_tile(gate_up, alpha, limit, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    """gpt-oss's activation of a float32 [BLOCK_M, 2 * BLOCK_N] tile of interleaved gate/up columns -> [BLOCK_M,
    BLOCK_N]."""
    gate, up = tl.split(tl.reshape(gate_up, (BLOCK_M, BLOCK_N, 2)))
    gate = tl.minimum(gate, limit)
    up = tl.minimum(tl.maximum(up, -limit), limit)
    return (up + 1.0) * (gate * tl.sigmoid(gate * alpha))


@triton.jit
def _gate_up_kernel(
    hidden_ptr, weight_ptr, bias_ptr, out_ptr, slot_pair_ptr, block_expert_ptr,
    num_pairs, top_k: tl.constexpr, hidden_size: tl.constexpr, intermediate_size: tl.constexpr,
    stride_hidden, stride_weight_expert, stride_weight_row, stride_bias, stride_out,
    alpha, limit,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):
    expert = tl.load(block_expert_ptr + tl.program_id(0)).to(tl.int64)
    if expert < 0:
        return
    slots, pairs, valid = block_pairs(slot_pair_ptr, num_pairs, BLOCK_M)
    tokens = (pairs // top_k).to(tl.int64)
    columns = tl.program_id(1) * 2 * BLOCK_N + tl.arange(0, 2 * BLOCK_N)
    columns_ok = columns < 2 * intermediate_size
    accumulator = _expert_product(
        hidden_ptr, tokens, stride_hidden, valid, weight_ptr + expert * stride_weight_expert, stride_weight_row,
        bias_ptr + expert * stride_bias, columns, columns_ok, hidden_size, BLOCK_M, 2 * BLOCK_N, BLOCK_K,
    )
    activated = clamped_swiglu_tile(accumulator, alpha, limit, BLOCK_M, BLOCK_N)
    out_columns = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    tl.store(out_ptr + slots[:, None].to(tl.int64) * stride_out + out_columns[None, :],
             activated.to(out_ptr.dtype.element_ty),
             mask=valid[:, None] & (out_columns < intermediate_size)[None, :])


@triton.jit
def _down_kernel(
    activated_ptr, weight_ptr, bias_ptr, routing_weight_ptr, out_ptr, slot_pair_ptr, block_expert_ptr,
    num_pairs, intermediate_size: tl.constexpr, hidden_size: tl.constexpr,
    stride_activated, stride_weight_expert, stride_weight_row, stride_bias, stride_out,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):
    expert = tl.load(block_expert_ptr + tl.program_id(0)).to(tl.int64)
    if expert < 0:
        return
    slots, pairs, valid = block_pairs(slot_pair_ptr, num_pairs, BLOCK_M)
    columns = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    columns_ok = columns < hidden_size
    accumulator = _expert_product(
        activated_ptr, slots.to(tl.int64), stride_activated, valid, weight_ptr + expert * stride_weight_expert,
        stride_weight_row, bias_ptr + expert * stride_bias, columns, columns_ok, intermediate_size, BLOCK_M, BLOCK_N,
        BLOCK_K,
    )
    routing_weight = tl.load(routing_weight_ptr + pairs, mask=valid, other=0.0).to(tl.float32)
    result = accumulator * routing_weight[:, None]
    tl.store(out_ptr + pairs[:, None].to(tl.int64) * stride_out + columns[None, :], result,
             mask=valid[:, None] & columns_ok[None, :])


def launch_config(n: int) -> dict:
    """Tiles for a weight matrix with n output columns. On the H100, 128-column tiles with 64-row steps stream
    expert weights at about 2.9 TB/s at 8 and 64 tokens (tools/bench_experts.py --sweep, docs/benchmarks.md)."""
    return {"BLOCK_N": 128 if n >= 128 else 32, "BLOCK_K": 64, "num_warps": 4, "num_stages": 5}


def launch_gate_up(hidden_states, gate_up_proj, gate_up_proj_bias, slot_pair, block_expert, top_k, alpha, limit,
                   config: dict) -> torch.Tensor:
    hidden_size, intermediate_size = gate_up_proj.shape[1], gate_up_proj.shape[2] // 2
    out = hidden_states.new_empty(slot_pair.shape[0], intermediate_size)
    grid = (block_expert.shape[0], triton.cdiv(intermediate_size, config["BLOCK_N"]))
    _gate_up_kernel[grid](
        hidden_states, gate_up_proj, gate_up_proj_bias, out, slot_pair, block_expert,
        hidden_states.shape[0] * top_k, top_k, hidden_size, intermediate_size,
        hidden_states.stride(0), gate_up_proj.stride(0), gate_up_proj.stride(1), gate_up_proj_bias.stride(0),
        out.stride(0), alpha, limit, BLOCK_M=BLOCK_M, **config,
    )
    return out


def launch_down(activated, down_proj, down_proj_bias, routing_weights, slot_pair, block_expert,
                config: dict) -> torch.Tensor:
    num_pairs = routing_weights.numel()
    intermediate_size, hidden_size = down_proj.shape[1], down_proj.shape[2]
    out = activated.new_empty(num_pairs, hidden_size, dtype=torch.float32)
    grid = (block_expert.shape[0], triton.cdiv(hidden_size, config["BLOCK_N"]))
    _down_kernel[grid](
        activated, down_proj, down_proj_bias, routing_weights.reshape(-1), out, slot_pair, block_expert,
        num_pairs, intermediate_size, hidden_size,
        activated.stride(0), down_proj.stride(0), down_proj.stride(1), down_proj_bias.stride(0), out.stride(0),
        BLOCK_M=BLOCK_M, **config,
    )
    return out


@torch.library.custom_op("gpt_oss_rewrite_runtime::expert_gate_up_activation", mutates_args=())
def gate_up_activation(
    hidden_states: torch.Tensor,
    gate_up_proj: torch.Tensor,
    gate_up_proj_bias: torch.Tensor,
    slot_pair: torch.Tensor,
    block_expert: torch.Tensor,
    top_k: int,
    alpha: float,
    limit: float,
) -> torch.Tensor:
    return launch_gate_up(hidden_states, gate_up_proj, gate_up_proj_bias, slot_pair, block_expert, top_k, alpha,
                          limit, launch_config(gate_up_proj.shape[2] // 2))


@gate_up_activation.register_fake
def _(hidden_states, gate_up_proj, gate_up_proj_bias, slot_pair, block_expert, top_k, alpha, limit):
    return hidden_states.new_empty(slot_pair.shape[0], gate_up_proj.shape[2] // 2)


@torch.library.custom_op("gpt_oss_rewrite_runtime::expert_down_weighted", mutates_args=())
def down_weighted(
    activated: torch.Tensor,
    down_proj: torch.Tensor,
    down_proj_bias: torch.Tensor,
    routing_weights: torch.Tensor,
    slot_pair: torch.Tensor,
    block_expert: torch.Tensor,
) -> torch.Tensor:
    return launch_down(activated, down_proj, down_proj_bias, routing_weights, slot_pair, block_expert,
                       launch_config(down_proj.shape[2]))


@down_weighted.register_fake
def _(activated, down_proj, down_proj_bias, routing_weights, slot_pair, block_expert):
    return activated.new_empty(routing_weights.numel(), down_proj.shape[2], dtype=torch.float32)
