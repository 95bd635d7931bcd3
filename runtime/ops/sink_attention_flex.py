"""Sink attention on flex attention: the CUDA path.

Flex computes softmax(scores) @ v over the visible keys and returns the log-sum-exp `lse` of each row;
the sink then rescales each row in float32:

    out = flex_out * sigmoid(lse - sink)

which is softmax over [scores, sink] with the sink's share dropped (HF eager's formula). Flex's own
backward gives the gradients of q, k and v (through both its output and its lse); the sinks get theirs
through the sigmoid. A row with no visible key has flex_out = 0 and lse = -inf, so it outputs 0.

Block masks come from index arithmetic (`build_sink_block_mask`: a few tiny integer kernels, no host
sync). The layers of one forward pass share their offset and padding tensors, so the last mask of
each window is kept and reused while the caller passes the same, unmodified tensors (checked by
identity and version counter, no sync). The mask_mod reads offsets, padding and window from tensors:
new decode positions, a new batch's padding or the other layer kind recompile nothing.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn.attention.flex_attention import AuxRequest, BlockMask, create_block_mask, flex_attention

from runtime.ops.sink_block_mask import FLEX_BLOCK_SIZE, build_sink_block_mask
from runtime.ops.sink_visibility import per_row_index


@functools.cache
def compiled_flex_attention() -> Callable[..., tuple[Tensor, Tensor]]:
    """flex_attention under torch.compile, built once per process (the fused Triton kernels)."""
    return torch.compile(flex_attention)


@dataclass
class _KeptMask:
    """The last block mask built for one window, with the caller tensors it was built from."""

    query_offset: Tensor  # held, so an identity match cannot come from a recycled object
    offset_version: int
    padding: Tensor
    padding_version: int
    geometry: tuple
    block_mask: BlockMask

    def fits(self, query_offset: Tensor, padding: Tensor, geometry: tuple) -> bool:
        return (
            self.query_offset is query_offset
            and self.padding is padding
            and self.offset_version == query_offset._version
            and self.padding_version == padding._version
            and self.geometry == geometry
        )


_KEPT_MASKS: dict[int | None, _KeptMask] = {}


def sink_block_mask(
    query: Tensor, key: Tensor, query_offset: Tensor, padding: Tensor, window: int | None, for_backward: bool
) -> BlockMask:
    """The block mask of this call: reused from the last call of the same window when nothing changed.

    Inside torch.compile the mask is built in the graph every time (the compiler fuses its arithmetic).
    """
    batch, q_len, kv_len = query.shape[0], query.shape[2], key.shape[2]

    def build() -> BlockMask:
        offsets = per_row_index(query_offset, batch, query.device)
        paddings = per_row_index(padding, batch, query.device)
        return build_sink_block_mask(offsets, paddings, window, q_len, kv_len, for_backward=for_backward)

    if torch.compiler.is_compiling():
        return build()
    geometry = (batch, q_len, kv_len, query.device, for_backward)
    kept = _KEPT_MASKS.get(window)
    if kept is None or not kept.fits(query_offset, padding, geometry):
        kept = _KeptMask(query_offset, query_offset._version, padding, padding._version, geometry, build())
        _KEPT_MASKS[window] = kept
    return kept.block_mask


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


def flex_sink_attention_flex_path(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    sinks: Tensor,
    scale: float,
    query_offset: Tensor,
    padding: Tensor,
    window: int | None,
) -> Tensor:
    """Flex sink attention; inputs already validated (`query_offset` [] or [B], `padding` [B], integer).

    On CUDA runs the compiled flex kernels (forward and backward), also when traced inside a caller's
    torch.compile. Elsewhere runs flex's eager reference implementation, which is forward-only and
    materialises scores: tests use it to check this path's mask and renormalisation without a GPU.
    Returns [B, Q, Hq, D] in query's dtype.
    """
    for_backward = torch.is_grad_enabled() and any(t.requires_grad for t in (query, key, value))
    block_mask = sink_block_mask(query, key, query_offset, padding, window, for_backward)
    return _attend_with_sinks(query, key, value, sinks, scale, block_mask)


def _attend_with_sinks(query, key, value, sinks, scale, block_mask) -> Tensor:
    # Inside an outer torch.compile flex is traced as it is; in eager mode on CUDA it needs its own compile.
    compile_here = query.is_cuda and not torch.compiler.is_compiling()
    attend = compiled_flex_attention() if compile_here else flex_attention
    out, lse = _attend_with_lse(attend, query, key, value, block_mask, scale)
    sink_keep = torch.sigmoid(lse.float() - sinks.float()[None, :, None])
    rescaled = out.float() * sink_keep[..., None]
    return rescaled.to(query.dtype).transpose(1, 2).contiguous()


def flex_sink_attention_flex_dense_mask(
    query: Tensor, key: Tensor, value: Tensor, sinks: Tensor, scale: float, mask: Tensor
) -> Tensor:
    """Flex sink attention reading visibility from a dense additive mask [B, 1, Q, K] (0 = visible).

    The stage between the `flex_sink` and `kv_offset` passes: flex compute, but the mask is still the
    O(Q*K) tensor the captured graph built; `kv_offset` replaces it with offsets.
    """
    visible = mask == 0

    def dense_mask_mod(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        return visible[b, 0, q_idx, kv_idx]

    batch, _, q_len, kv_len = mask.shape
    block_mask = create_block_mask(dense_mask_mod, batch, None, q_len, kv_len, device=query.device)
    return _attend_with_sinks(query, key, value, sinks, scale, block_mask)
