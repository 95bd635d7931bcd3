"""Triton decode kernels for gpt-oss experts kept in MXFP4: grouped GEMV that dequantizes the packed weights in
registers, so no full-precision copy of an expert exists anywhere.

Same slots and contract as `expert_kernels` (`grouped_experts.expert_slots(router_indices, E,
expert_kernels.BLOCK_M)` lays the (token, expert) pairs out; blocks past the used slots exit at once; shapes are
static for a given number of tokens, so the kernels replay inside CUDA graphs), but each expert's weights are
transformers' MXFP4 tensors, one row per output feature, packed along the input features (`mxfp4_tiles`):

- gate/up: `blocks` uint8 [E, 2I, H/32, 16], `scales` uint8 [E, 2I, H/32]; rows 2i and 2i + 1 are the gate and
  up features i, interleaved as transformers stores them; bias [E, 2I] (any float dtype).
- down: `blocks` uint8 [E, H, I/32, 16], `scales` uint8 [E, H, I/32]; bias [E, H].

A program reads its expert's packed bytes and scales once for all its slots, along each row, dequantizes them to
the activations' dtype (bf16 or fp16; float32 runs through TF32 on CUDA) and accumulates in float32. Inference
only (no autograd): training uses `mxfp4_grouped_gemm`.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from rewrite.errors import InputError
from runtime.ops import slot_tiles
from runtime.ops.mxfp4_tiles import GROUP_SIZE, dequantized_halves, ptx_decodes, tile_factor
from runtime.ops.slot_launch import BLOCK_M as BLOCK_M  # re-exported: callers' expert_slots(..., BLOCK_M)
from runtime.ops.slot_launch import down_output, gate_up_output, launch_down_kernel, launch_gate_up_kernel


@triton.jit
def _packed_expert_product(
    a_ptr, a_rows, stride_a_row, stride_a_column, valid, blocks_ptr, scales_ptr, bias_ptr, columns, columns_ok,
    inner_size: tl.constexpr, BLOCK_M: tl.constexpr, WIDTH: tl.constexpr, GROUPS: tl.constexpr, PTX: tl.constexpr,
):
    """float32 [BLOCK_M, WIDTH]: rows `a_rows` of A (zero where not `valid`) @ the transposed packed rows `columns`
    of one expert + bias."""
    accumulator = tl.zeros((BLOCK_M, WIDTH), dtype=tl.float32)
    num_groups: tl.constexpr = inner_size // 32
    for first_group in range(0, num_groups, GROUPS):
        inner = first_group * 32 + tl.arange(0, GROUPS * 32)
        a = tl.load(a_ptr + a_rows[:, None] * stride_a_row + inner[None, :] * stride_a_column,
                    mask=valid[:, None] & (inner < inner_size)[None, :], other=0.0)
        even, odd = tl.split(tl.reshape(a, (BLOCK_M, GROUPS * 16, 2)))
        low, high = dequantized_halves(blocks_ptr, scales_ptr, columns, columns_ok, first_group, num_groups, GROUPS,
                                       a_ptr.dtype.element_ty, PTX)
        accumulator += tl.dot(even, tl.trans(low))
        accumulator += tl.dot(odd, tl.trans(high))
    bias = tl.load(bias_ptr + columns, mask=columns_ok, other=0.0)
    return accumulator * tile_factor(PTX) + bias.to(tl.float32)[None, :]


@triton.jit
def _gate_up_kernel(
    hidden_ptr, blocks_ptr, scales_ptr, bias_ptr, out_ptr, slot_pair_ptr, block_expert_ptr,
    num_pairs, top_k: tl.constexpr, hidden_size: tl.constexpr, intermediate_size: tl.constexpr,
    stride_hidden_row, stride_hidden_column, stride_bias, stride_out, alpha, limit,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUPS: tl.constexpr, PTX: tl.constexpr,
):
    expert = slot_tiles.block_expert(block_expert_ptr)
    if expert < 0:
        return
    expert_rows = expert * 2 * intermediate_size
    slots, tokens, valid = slot_tiles.block_tokens(slot_pair_ptr, num_pairs, top_k, BLOCK_M)
    columns, columns_ok = slot_tiles.tile_columns(2 * BLOCK_N, 2 * intermediate_size)
    accumulator = _packed_expert_product(
        hidden_ptr, tokens, stride_hidden_row, stride_hidden_column, valid,
        blocks_ptr + expert_rows * (hidden_size // 2), scales_ptr + expert_rows * (hidden_size // 32),
        bias_ptr + expert * stride_bias, columns, columns_ok, hidden_size, BLOCK_M, 2 * BLOCK_N, GROUPS, PTX,
    )
    slot_tiles.store_activated(out_ptr, slots, valid, stride_out, accumulator, alpha, limit, intermediate_size,
                               BLOCK_M, BLOCK_N)


@triton.jit
def _down_kernel(
    activated_ptr, blocks_ptr, scales_ptr, bias_ptr, routing_weight_ptr, out_ptr, slot_pair_ptr, block_expert_ptr,
    num_pairs, intermediate_size: tl.constexpr, hidden_size: tl.constexpr,
    stride_activated_row, stride_activated_column, stride_bias, stride_out,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUPS: tl.constexpr, PTX: tl.constexpr,
):
    expert = slot_tiles.block_expert(block_expert_ptr)
    if expert < 0:
        return
    expert_rows = expert * hidden_size
    slots, pairs, valid = slot_tiles.block_pairs(slot_pair_ptr, num_pairs, BLOCK_M)
    columns, columns_ok = slot_tiles.tile_columns(BLOCK_N, hidden_size)
    accumulator = _packed_expert_product(
        activated_ptr, slots.to(tl.int64), stride_activated_row, stride_activated_column, valid,
        blocks_ptr + expert_rows * (intermediate_size // 2), scales_ptr + expert_rows * (intermediate_size // 32),
        bias_ptr + expert * stride_bias, columns, columns_ok, intermediate_size, BLOCK_M, BLOCK_N, GROUPS, PTX,
    )
    slot_tiles.store_weighted(out_ptr, pairs, valid, stride_out, accumulator, columns, columns_ok, routing_weight_ptr)


def check_packed(blocks: torch.Tensor, scales: torch.Tensor, inner_size: int, what: str) -> None:
    """Raise `InputError` unless `blocks` [E, out, inner/32, 16] and `scales` [E, out, inner/32] are contiguous
    uint8 MXFP4 tensors for `inner_size` input features."""
    groups = inner_size // GROUP_SIZE
    if (blocks.dtype != torch.uint8 or scales.dtype != torch.uint8 or blocks.dim() != 4
            or tuple(blocks.shape[2:]) != (groups, 16) or tuple(scales.shape) != tuple(blocks.shape[:3])
            or inner_size % GROUP_SIZE):
        raise InputError(
            f"{what}: MXFP4 weights for {inner_size} input features are uint8 blocks [E, out, {groups}, 16] and "
            f"scales [E, out, {groups}] (input features a multiple of 32); got blocks {blocks.dtype} "
            f"{list(blocks.shape)} and scales {scales.dtype} {list(scales.shape)}: pass the checkpoint's "
            "*_blocks and *_scales tensors unchanged"
        )
    if not (blocks.is_contiguous() and scales.is_contiguous()):
        raise InputError(f"{what}: MXFP4 blocks and scales must be contiguous; call .contiguous() once at load")


def launch_config(num_features: int, rows_per_feature: int, slot_blocks: int) -> dict:
    """Tiles for a projection of `num_features` output features, each `rows_per_feature` packed rows (2 for gate/up,
    interleaved; 1 for down), read by `slot_blocks` blocks of slots: BLOCK_N features per program, GROUPS scale
    groups of 32 inputs per step. Few blocks (a decode step of a token or two) take narrow tiles, so that more
    programs share the reads; more blocks take 128 features and 8 KiB of packed bytes per step. The sweep of
    tools/bench_mxfp4_kernels.py picked both at gpt-oss-20b's shapes."""
    if slot_blocks < 16:
        return {"BLOCK_N": 32 if num_features >= 32 else 16, "GROUPS": 4, "num_warps": 4, "num_stages": 4}
    return {"BLOCK_N": min(128, max(16, triton.next_power_of_2(num_features) // 2)),
            "GROUPS": 4 // rows_per_feature, "num_warps": 4, "num_stages": 3}


def launch_gate_up(hidden_states, blocks, scales, bias, slot_pair, block_expert, top_k, alpha, limit,
                   config: dict) -> torch.Tensor:
    hidden_size, intermediate_size = hidden_states.shape[1], blocks.shape[1] // 2
    check_packed(blocks, scales, hidden_size, "mxfp4_gate_up_activation")
    return launch_gate_up_kernel(
        _gate_up_kernel, hidden_states, slot_pair, block_expert, top_k, alpha, limit, intermediate_size,
        triton.cdiv(intermediate_size, config["BLOCK_N"]), blocks_ptr=blocks, scales_ptr=scales, bias_ptr=bias,
        hidden_size=hidden_size, stride_hidden_row=hidden_states.stride(0),
        stride_hidden_column=hidden_states.stride(1), stride_bias=bias.stride(0), PTX=ptx_decodes(hidden_states),
        **config,
    )


def launch_down(activated, blocks, scales, bias, routing_weights, slot_pair, block_expert,
                config: dict) -> torch.Tensor:
    intermediate_size, hidden_size = activated.shape[1], blocks.shape[1]
    check_packed(blocks, scales, intermediate_size, "mxfp4_down_weighted")
    return launch_down_kernel(
        _down_kernel, activated, routing_weights, slot_pair, block_expert, hidden_size,
        triton.cdiv(hidden_size, config["BLOCK_N"]), blocks_ptr=blocks, scales_ptr=scales, bias_ptr=bias,
        intermediate_size=intermediate_size, stride_activated_row=activated.stride(0),
        stride_activated_column=activated.stride(1), stride_bias=bias.stride(0), PTX=ptx_decodes(activated),
        **config,
    )


@torch.library.custom_op("gpt_oss_rewrite_runtime::mxfp4_gate_up_activation", mutates_args=())
def mxfp4_gate_up_activation(
    hidden_states: torch.Tensor, blocks: torch.Tensor, scales: torch.Tensor, bias: torch.Tensor,
    slot_pair: torch.Tensor, block_expert: torch.Tensor, top_k: int, alpha: float, limit: float,
) -> torch.Tensor:
    """[slots, I] in hidden's dtype: clamped SwiGLU(hidden[token] @ W[e].T + bias[e]) for the pair in each slot
    (rows of padding slots are left unwritten), from hidden [T, H], gate/up blocks, scales and bias [E, 2I], and
    `expert_slots`' slot_pair and block_expert."""
    return launch_gate_up(hidden_states, blocks, scales, bias, slot_pair, block_expert, top_k, alpha, limit,
                          launch_config(blocks.shape[1] // 2, 2, block_expert.shape[0]))


@mxfp4_gate_up_activation.register_fake
def _(hidden_states, blocks, scales, bias, slot_pair, block_expert, top_k, alpha, limit):
    check_packed(blocks, scales, hidden_states.shape[1], "mxfp4_gate_up_activation")
    return gate_up_output(hidden_states, slot_pair, blocks.shape[1] // 2)


@torch.library.custom_op("gpt_oss_rewrite_runtime::mxfp4_down_weighted", mutates_args=())
def mxfp4_down_weighted(
    activated: torch.Tensor, blocks: torch.Tensor, scales: torch.Tensor, bias: torch.Tensor,
    routing_weights: torch.Tensor, slot_pair: torch.Tensor, block_expert: torch.Tensor,
) -> torch.Tensor:
    """[T * k, H] float32: (activated[slot] @ W[e].T + bias[e]) * routing weight, at row token * k + j of the pair
    in each used slot, from activated [slots, I], down blocks, scales and bias [E, H], routing_weights [T, k]."""
    return launch_down(activated, blocks, scales, bias, routing_weights, slot_pair, block_expert,
                       launch_config(blocks.shape[1], 1, block_expert.shape[0]))


@mxfp4_down_weighted.register_fake
def _(activated, blocks, scales, bias, routing_weights, slot_pair, block_expert):
    check_packed(blocks, scales, activated.shape[1], "mxfp4_down_weighted")
    return down_output(activated, routing_weights, blocks.shape[1])
