"""Sink attention on flex attention: the CUDA backend.

Flex computes softmax(scores) @ v over the visible keys and returns the log-sum-exp `lse` of each row;
the sink then rescales each row in float32:

    out = flex_out * sigmoid(lse - sink)

which is softmax over [scores, sink] with the sink's share dropped (HF eager's formula). Flex's own
backward gives the gradients of q, k and v (through both its output and its lse); the sinks get theirs
through the sigmoid. A row with no visible key has flex_out = 0 and lse = -inf, so it outputs 0.

The block mask of a `SinkMask` comes from index arithmetic (`build_sink_block_mask`: a few tiny
integer kernels, no host sync) and is kept on the description itself (`SinkMask.block_masks`, keyed by
batch, query length, kv length, device and whether a backward pass will read it). The graph hands one
description to every layer of a kind, so a forward pass builds one block mask per layer kind, and the
kept masks go with the description: there is no cache outside the values the graph passes. Inside
torch.compile the block mask is built in the graph on every call (the compiler fuses its arithmetic)
and nothing is kept. The mask_mod reads offsets, padding and window from tensors: new decode positions,
a new batch's padding or the other layer kind recompile nothing. A dense mask (the stage between the
`flex_sink` and `kv_offset` passes) gets `create_block_mask` over it on every call.
"""

import functools
from collections.abc import Callable

import torch
from torch import Tensor
from torch.nn.attention.flex_attention import AuxRequest, BlockMask, create_block_mask, flex_attention

from runtime.ops.sink_block_mask import FLEX_BLOCK_SIZE, build_sink_block_mask
from runtime.ops.sink_mask import AttentionMask, SinkMask


@functools.cache
def compiled_flex_attention() -> Callable[..., tuple[Tensor, Tensor]]:
    """flex_attention under torch.compile, built once per process (the fused Triton kernels)."""
    return torch.compile(flex_attention)


def block_mask_for(mask: AttentionMask, query: Tensor, key: Tensor, for_backward: bool) -> BlockMask:
    """The block mask of this call: for a `SinkMask`, the one kept on it for this geometry, built on first use."""
    batch, q_len, kv_len = query.shape[0], query.shape[2], key.shape[2]
    if not isinstance(mask, SinkMask):
        return _dense_block_mask(mask, query.device)

    def build() -> BlockMask:
        per_row = mask.per_row(batch, query.device)
        return build_sink_block_mask(per_row, q_len, kv_len, for_backward=for_backward)

    if torch.compiler.is_compiling():
        return build()
    geometry = (batch, q_len, kv_len, query.device, for_backward)
    if geometry not in mask.block_masks:
        mask.block_masks[geometry] = build()
    return mask.block_masks[geometry]


def _dense_block_mask(mask: Tensor, device: torch.device) -> BlockMask:
    """A block mask reading visibility from a dense additive mask [B, 1, Q, K] (0 = visible)."""
    visible = mask == 0

    def dense_mask_mod(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        return visible[b, 0, q_idx, kv_idx]

    batch, _, q_len, kv_len = mask.shape
    return create_block_mask(dense_mask_mod, batch, None, q_len, kv_len, device=device)


# torch 2.11's flex template finds no kernel configuration ("NoValidChoicesError") for a GQA query
# whose length is neither 1 nor a multiple of 128 (seen on the H200 for 64 q heads on 8 kv heads at
# Q=119, bf16 and fp32); 64x64 tiles, which divide the 128 mask blocks, compile and run.
RAGGED_QUERY_KERNEL_OPTIONS = {"BLOCK_M": 64, "BLOCK_N": 64}


def _attend_with_lse(
    attend: Callable, query: Tensor, key: Tensor, value: Tensor, block_mask: BlockMask, scale: float
) -> tuple[Tensor, Tensor]:
    """(out [B, Hq, Q, D], lse [B, Hq, Q] float32, natural log) from `attend`, a flex_attention."""
    enable_gqa = query.shape[1] != key.shape[1]
    common = dict(block_mask=block_mask, scale=scale, enable_gqa=enable_gqa)
    q_len = query.shape[2]
    if query.is_cuda and q_len > 1 and q_len % FLEX_BLOCK_SIZE:
        common["kernel_options"] = RAGGED_QUERY_KERNEL_OPTIONS
    out, aux = attend(query, key, value, **common, return_aux=AuxRequest(lse=True))
    return out, aux.lse


def sink_attention_flex(
    query: Tensor, key: Tensor, value: Tensor, sinks: Tensor, mask: AttentionMask, scale: float
) -> Tensor:
    """Flex sink attention; inputs already validated by `sink_attention`.

    On CUDA runs the compiled flex kernels (forward and backward), also when traced inside a caller's
    torch.compile. Elsewhere runs flex's eager reference implementation, which is forward-only and
    materialises scores: tests use it to check this path's mask and renormalisation without a GPU.
    Returns [B, Q, Hq, D] in query's dtype.
    """
    for_backward = torch.is_grad_enabled() and any(t.requires_grad for t in (query, key, value))
    block_mask = block_mask_for(mask, query, key, for_backward)
    # Inside an outer torch.compile flex is traced as it is; in eager mode on CUDA it needs its own compile.
    compile_here = query.is_cuda and not torch.compiler.is_compiling()
    attend = compiled_flex_attention() if compile_here else flex_attention
    out, lse = _attend_with_lse(attend, query, key, value, block_mask, scale)
    sink_keep = torch.sigmoid(lse.float() - sinks.float()[None, :, None])
    rescaled = out.float() * sink_keep[..., None]
    return rescaled.to(query.dtype).transpose(1, 2).contiguous()

