"""Triton kernels for gpt-oss experts when each expert sees few tokens (decoding): bandwidth-bound grouped GEMV.

The (token, expert) pairs are laid out in expert-sorted *slots*, each expert's run padded to a multiple of
BLOCK_M, so that one program block holds rows of one expert only. A program reads its expert's weight tile once
for all its rows; blocks past the used slots exit at once. Shapes are static for a given number of tokens, so the
kernels replay inside CUDA graphs. What the decode kernels share around their products (slots, activation, stores,
launch) is in `slot_tiles` and `slot_launch`.

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

from runtime.ops import slot_tiles
from runtime.ops.slot_launch import BLOCK_M as BLOCK_M  # re-exported: callers' expert_slots(..., BLOCK_M)
from runtime.ops.slot_launch import down_output, gate_up_output, launch_down_kernel, launch_gate_up_kernel


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
def _gate_up_kernel(
    hidden_ptr, weight_ptr, bias_ptr, out_ptr, slot_pair_ptr, block_expert_ptr,
    num_pairs, top_k: tl.constexpr, hidden_size: tl.constexpr, intermediate_size: tl.constexpr,
    stride_hidden, stride_weight_expert, stride_weight_row, stride_bias, stride_out,
    alpha, limit,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):
    expert = slot_tiles.block_expert(block_expert_ptr)
    if expert < 0:
        return
    slots, tokens, valid = slot_tiles.block_tokens(slot_pair_ptr, num_pairs, top_k, BLOCK_M)
    columns, columns_ok = slot_tiles.tile_columns(2 * BLOCK_N, 2 * intermediate_size)
    accumulator = _expert_product(
        hidden_ptr, tokens, stride_hidden, valid, weight_ptr + expert * stride_weight_expert, stride_weight_row,
        bias_ptr + expert * stride_bias, columns, columns_ok, hidden_size, BLOCK_M, 2 * BLOCK_N, BLOCK_K,
    )
    slot_tiles.store_activated(out_ptr, slots, valid, stride_out, accumulator, alpha, limit, intermediate_size,
                               BLOCK_M, BLOCK_N)


@triton.jit
def _down_kernel(
    activated_ptr, weight_ptr, bias_ptr, routing_weight_ptr, out_ptr, slot_pair_ptr, block_expert_ptr,
    num_pairs, intermediate_size: tl.constexpr, hidden_size: tl.constexpr,
    stride_activated, stride_weight_expert, stride_weight_row, stride_bias, stride_out,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
):
    expert = slot_tiles.block_expert(block_expert_ptr)
    if expert < 0:
        return
    slots, pairs, valid = slot_tiles.block_pairs(slot_pair_ptr, num_pairs, BLOCK_M)
    columns, columns_ok = slot_tiles.tile_columns(BLOCK_N, hidden_size)
    accumulator = _expert_product(
        activated_ptr, slots.to(tl.int64), stride_activated, valid, weight_ptr + expert * stride_weight_expert,
        stride_weight_row, bias_ptr + expert * stride_bias, columns, columns_ok, intermediate_size, BLOCK_M, BLOCK_N,
        BLOCK_K,
    )
    slot_tiles.store_weighted(out_ptr, pairs, valid, stride_out, accumulator, columns, columns_ok, routing_weight_ptr)


def launch_config(n: int) -> dict:
    """Tiles for a weight matrix with n output columns. On the H100, 128-column tiles with 64-row steps stream
    expert weights at about 2.9 TB/s at 8 and 64 tokens (tools/bench_experts.py --sweep, docs/benchmarks.md)."""
    return {"BLOCK_N": 128 if n >= 128 else 32, "BLOCK_K": 64, "num_warps": 4, "num_stages": 5}


def launch_gate_up(hidden_states, gate_up_proj, gate_up_proj_bias, slot_pair, block_expert, top_k, alpha, limit,
                   config: dict) -> torch.Tensor:
    intermediate_size = gate_up_proj.shape[2] // 2
    return launch_gate_up_kernel(
        _gate_up_kernel, hidden_states, slot_pair, block_expert, top_k, alpha, limit, intermediate_size,
        triton.cdiv(intermediate_size, config["BLOCK_N"]), weight_ptr=gate_up_proj, bias_ptr=gate_up_proj_bias,
        hidden_size=gate_up_proj.shape[1], stride_hidden=hidden_states.stride(0),
        stride_weight_expert=gate_up_proj.stride(0), stride_weight_row=gate_up_proj.stride(1),
        stride_bias=gate_up_proj_bias.stride(0), **config,
    )


def launch_down(activated, down_proj, down_proj_bias, routing_weights, slot_pair, block_expert,
                config: dict) -> torch.Tensor:
    hidden_size = down_proj.shape[2]
    return launch_down_kernel(
        _down_kernel, activated, routing_weights, slot_pair, block_expert, hidden_size,
        triton.cdiv(hidden_size, config["BLOCK_N"]), weight_ptr=down_proj, bias_ptr=down_proj_bias,
        intermediate_size=down_proj.shape[1], stride_activated=activated.stride(0),
        stride_weight_expert=down_proj.stride(0), stride_weight_row=down_proj.stride(1),
        stride_bias=down_proj_bias.stride(0), **config,
    )


@torch.library.custom_op("gpt_oss_rewrite_runtime::expert_gate_up_activation", mutates_args=())
def gate_up_activation(
    hidden_states: torch.Tensor, gate_up_proj: torch.Tensor, gate_up_proj_bias: torch.Tensor, slot_pair: torch.Tensor,
    block_expert: torch.Tensor, top_k: int, alpha: float, limit: float,
) -> torch.Tensor:
    return launch_gate_up(hidden_states, gate_up_proj, gate_up_proj_bias, slot_pair, block_expert, top_k, alpha,
                          limit, launch_config(gate_up_proj.shape[2] // 2))


@gate_up_activation.register_fake
def _(hidden_states, gate_up_proj, gate_up_proj_bias, slot_pair, block_expert, top_k, alpha, limit):
    return gate_up_output(hidden_states, slot_pair, gate_up_proj.shape[2] // 2)


@torch.library.custom_op("gpt_oss_rewrite_runtime::expert_down_weighted", mutates_args=())
def down_weighted(
    activated: torch.Tensor, down_proj: torch.Tensor, down_proj_bias: torch.Tensor, routing_weights: torch.Tensor,
    slot_pair: torch.Tensor, block_expert: torch.Tensor,
) -> torch.Tensor:
    return launch_down(activated, down_proj, down_proj_bias, routing_weights, slot_pair, block_expert,
                       launch_config(down_proj.shape[2]))


@down_weighted.register_fake
def _(activated, down_proj, down_proj_bias, routing_weights, slot_pair, block_expert):
    return down_output(activated, routing_weights, down_proj.shape[2])
