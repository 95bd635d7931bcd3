"""Which kv slots a query row may attend to: the one visibility rule every attention path shares.

Query row i of batch row b sits at kv index `query_offset[b] + i` (its position in the cache). Kv slot j
is visible to a query at position p iff

    padding[b] <= j <= p            (skip left padding; never look at unwritten or future slots)
    and p - j < window              (sliding layers only; transformers' `kv_idx > q_idx - window`)

The same rule is evaluated three ways: over a chunk of rows by the CPU math path, inside flex
attention as a `mask_mod`, and over whole tiles by the block-mask builder (`sink_block_mask`).
"""

from collections.abc import Callable

import torch
from torch import Tensor

MaskMod = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
NO_WINDOW = torch.iinfo(torch.int64).max  # a window no difference of positions reaches


def is_visible(query_position: Tensor, kv_index: Tensor, padding: Tensor, window: int | Tensor | None) -> Tensor:
    """Boolean visibility of kv slots to queries; all arguments broadcast against each other.

    `query_position` is the absolute kv index of the query row, `padding` the number of left-padding
    slots of its batch row, `window` the sliding window (None: full attention; a tensor is read at run time).
    """
    visible = (kv_index >= padding) & (kv_index <= query_position)
    if window is not None:
        visible = visible & (query_position - kv_index < window)
    return visible


def make_sink_mask_mod(query_offset: Tensor, padding: Tensor, window: int | None) -> MaskMod:
    """A flex-attention `mask_mod` that reads per-row offset and padding tensors (both int64 [B]).

    Everything it depends on is a captured tensor, the window too (full attention gets a window no
    position difference reaches), so the compiled kernel reads offsets, padding and window at run
    time: a new decode position, a new batch's padding or the other layer kind compile nothing new.
    The caller must not modify `query_offset` or `padding` in place while the mask is in use.
    """
    window_limit = torch.tensor(NO_WINDOW if window is None else window, device=query_offset.device)

    def sink_mask_mod(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        return is_visible(query_offset[b] + q_idx, kv_idx, padding[b], window_limit)

    return sink_mask_mod


def per_row_index(index: Tensor, batch: int, device: torch.device) -> Tensor:
    """A private contiguous int64 [batch] copy of an index given as [] or [batch] (shape checked by the caller)."""
    return index.to(device=device, dtype=torch.int64).reshape(-1).expand(batch).clone()


def chunk_visibility(
    query_offset: Tensor, padding: Tensor, window: int | None, first_row: int, end_row: int, kv_len: int
) -> Tensor:
    """Visibility of all `kv_len` slots to query rows [first_row, end_row): bool [B, end_row - first_row, kv_len]."""
    rows = torch.arange(first_row, end_row, device=query_offset.device)
    query_position = (query_offset[:, None] + rows[None, :])[:, :, None]
    kv_index = torch.arange(kv_len, device=query_offset.device)[None, None, :]
    return is_visible(query_position, kv_index, padding[:, None, None], window)
