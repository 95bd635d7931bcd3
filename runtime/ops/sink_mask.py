"""The mask of sink attention as one value, and the one visibility rule every backend evaluates.

`SinkMask(query_offset, padding, window)` describes which kv slots each query row sees without a dense
[B, 1, Q, K] tensor. Query row i of batch row b sits at kv index `query_offset[b] + i` (its slot in the
cache); kv slot j is visible to a query at position p iff

    padding[b] <= j <= p            (skip left padding; never look at unwritten or future slots)
    and p - j < window              (sliding layers only; transformers' `kv_idx > q_idx - window`)

The `kv_offset` pass builds one `SinkMask` per layer kind and forward pass, shared by the layers of that
kind. The op is a Python function that the graph calls and torch.compile traces through (into flex
attention or plain ops), not a torch.library op, so the description travels as this one value: no
flattening into tensors is needed, and its tensors stay inputs read at run time (no recompiles when
offsets change; the window, an int, is a constant of the compiled graph).

The other form a mask takes is transformers' dense additive mask [B, 1, Q, K] (0 where visible), as the
captured graph builds it: the stage between the `flex_sink` and `kv_offset` passes. `AttentionMask` is
either; `row_visibility` evaluates both the same way for the backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

MaskMod = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]
RowVisibility = Callable[[int, int, int], Tensor]
NO_WINDOW = torch.iinfo(torch.int64).max  # a window no difference of positions reaches


@dataclass(frozen=True, eq=False)
class SinkMask:
    """The visibility of kv slots to query rows, by offsets (see the module docstring).

    query_offset: integer [] or [B], the cache slot of each batch row's first query row (the KV-cache
    write position of this step). padding: integer [B], each row's left-padding slots. window: the
    sliding window, or None for full attention. A value: make a new one for new offsets rather than
    changing its tensors in place.
    """

    query_offset: Tensor
    padding: Tensor
    window: int | None
    block_masks: dict = field(default_factory=dict, init=False, repr=False)
    """The flex backend's block masks built from this description, by geometry (`sink_attention_flex`):
    layers handed the same description share them, and they go with it once the forward (and its
    backward) is done."""

    def per_row(self, batch: int, device: torch.device) -> SinkMask:
        """A private copy with both tensors int64 [batch] on `device` (shapes are checked by the op)."""
        return SinkMask(per_row_index(self.query_offset, batch, device), per_row_index(self.padding, batch, device),
                        self.window)

    def visible_rows(self, first_row: int, end_row: int, kv_len: int) -> Tensor:
        """Visibility of `kv_len` slots to query rows [first_row, end_row): bool [B, rows, kv_len].

        Needs the per-row form (`per_row`)."""
        rows = torch.arange(first_row, end_row, device=self.query_offset.device)
        query_position = (self.query_offset[:, None] + rows[None, :])[:, :, None]
        kv_index = torch.arange(kv_len, device=self.query_offset.device)[None, None, :]
        return is_visible(query_position, kv_index, self.padding[:, None, None], self.window)


AttentionMask = SinkMask | Tensor


def is_visible(query_position: Tensor, kv_index: Tensor, padding: Tensor, window: int | Tensor | None) -> Tensor:
    """Boolean visibility of kv slots to queries; all arguments broadcast against each other.

    `query_position` is the absolute kv index of the query row, `padding` the number of left-padding
    slots of its batch row, `window` the sliding window (None: full attention; a tensor is read at run time).
    """
    visible = (kv_index >= padding) & (kv_index <= query_position)
    if window is not None:
        visible = visible & (query_position - kv_index < window)
    return visible


def make_sink_mask_mod(mask: SinkMask) -> MaskMod:
    """A flex-attention `mask_mod` of a per-row `SinkMask` (`per_row`: int64 [B] tensors).

    Everything it depends on is a captured tensor, the window too (full attention gets a window no
    position difference reaches), so the compiled kernel reads offsets, padding and window at run
    time: a new decode position, a new batch's padding or the other layer kind compile nothing new.
    """
    query_offset, padding = mask.query_offset, mask.padding
    window_limit = torch.tensor(NO_WINDOW if mask.window is None else mask.window, device=query_offset.device)

    def sink_mask_mod(b: Tensor, h: Tensor, q_idx: Tensor, kv_idx: Tensor) -> Tensor:
        return is_visible(query_offset[b] + q_idx, kv_idx, padding[b], window_limit)

    return sink_mask_mod


def per_row_index(index: Tensor, batch: int, device: torch.device) -> Tensor:
    """A private contiguous int64 [batch] copy of an index given as [] or [batch] (shape checked by the caller)."""
    return index.to(device=device, dtype=torch.int64).reshape(-1).expand(batch).clone()


def row_visibility(mask: AttentionMask, batch: int, device: torch.device) -> RowVisibility:
    """`visibility(first_row, end_row, kv_len)` -> bool [B, end_row - first_row, kv_len] for either form of mask.

    A `SinkMask`'s tensors are copied here: changing them later affects no pending backward pass.
    """
    if isinstance(mask, SinkMask):
        return mask.per_row(batch, device).visible_rows
    visible = mask.detach() == 0

    def dense_rows(first_row: int, end_row: int, kv_len: int) -> Tensor:
        return visible[:, 0, first_row:end_row, :kv_len]

    return dense_rows
