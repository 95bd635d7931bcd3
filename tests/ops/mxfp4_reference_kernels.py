"""The contracts of `runtime.ops.mxfp4_kernels` (decode) and `runtime.ops.mxfp4_grouped_gemm` (grouped matmul),
written in torch, one pair or expert at a time: it stands in for both Triton modules on CPU so that
`MXFP4Experts`' kernel paths run here, and states what those kernels must compute."""

import torch

from runtime.ops.grouped_experts import clamped_swiglu
from runtime.ops.mxfp4_format import dequantize_mxfp4

BLOCK_M = 4


def mxfp4_grouped_matmul(x_sorted, blocks, scales, offsets, bias=None):
    """[pairs, out]: rows of `x_sorted` (sorted by expert, expert e's run ending at offsets[e]) @ their expert's
    dequantized matrix (+ bias[e]); differentiable in `x_sorted`."""
    ends = offsets.tolist()
    products = [x_sorted[start:end] @ dequantize_mxfp4(blocks[expert], scales[expert], x_sorted.dtype)
                + (0 if bias is None else bias[expert])
                for expert, (start, end) in enumerate(zip([0, *ends[:-1]], ends, strict=True))]
    return torch.cat(products)


def _used_slots(slot_pair, block_expert, num_pairs):
    """(slot, pair, expert) of each slot that holds a pair."""
    for slot, pair in enumerate(slot_pair.tolist()):
        if pair < num_pairs:
            yield slot, pair, block_expert[slot // BLOCK_M].item()


def mxfp4_gate_up_activation(hidden_states, blocks, scales, bias, slot_pair, block_expert, top_k, alpha, limit):
    """[slots, I]: the clamped SwiGLU of each slot's token through its expert's gate/up matrix."""
    activated = hidden_states.new_zeros(slot_pair.shape[0], blocks.shape[1] // 2)
    for slot, pair, expert in _used_slots(slot_pair, block_expert, hidden_states.shape[0] * top_k):
        weight = dequantize_mxfp4(blocks[expert], scales[expert], hidden_states.dtype)
        activated[slot] = clamped_swiglu(hidden_states[pair // top_k] @ weight + bias[expert], alpha, limit)
    return activated


def mxfp4_down_weighted(activated, blocks, scales, bias, routing_weights, slot_pair, block_expert):
    """[pairs, H] float32: each slot's down projection times its routing weight, at the row of its pair."""
    weights = routing_weights.reshape(-1)
    out = activated.new_zeros(weights.numel(), blocks.shape[1], dtype=torch.float32)
    for slot, pair, expert in _used_slots(slot_pair, block_expert, weights.numel()):
        weight = dequantize_mxfp4(blocks[expert], scales[expert], activated.dtype)
        out[pair] = (activated[slot] @ weight + bias[expert]) * weights[pair]
    return out
