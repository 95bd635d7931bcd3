"""Build flex attention's BlockMask for sink attention from index arithmetic alone.

`create_block_mask` evaluates the mask_mod on every (q, kv) pair, which costs a [B, Q, K] pass per
call. Our visibility rule (see `sink_mask`) makes each query row see one contiguous kv interval

    lo(p) = max(padding, p - window + 1)  (padding on full layers),   hi(p) = p

and both ends grow with the row's position p. So the tiles a block of rows touches, and the tiles it
sees completely, follow from the interval ends of its first and last row: a [B, Q/128, K/128] pass
of tiny integer tensors, no dense mask, no host sync, cheap enough to rebuild on every decode step.

Contract of the result: every tile holding a visible pair is listed (as partial or full); a tile
is full only if every pair in it is visible and in range; tiles at ragged ends are always partial,
so flex applies the mask_mod there. The mask_mod reads the offset/padding tensors (no recompile).
"""

import torch
from torch import Tensor
from torch.nn.attention.flex_attention import BlockMask

from runtime.ops.sink_mask import SinkMask, make_sink_mask_mod

FLEX_BLOCK_SIZE = 128


def _interval_start(position: Tensor, padding: Tensor, window: int | None) -> Tensor:
    """First visible kv slot of a query at `position` (the interval may be empty: start > position)."""
    if window is None:
        return padding.expand_as(position)
    return torch.maximum(padding, position - window + 1)


def _ordered_tiles(tiles: Tensor) -> tuple[Tensor, Tensor]:
    """Flex's ordered layout of a bool tile grid [B, 1, nQ, nK]: per row, the count and the listed tiles first."""
    as_int = tiles.to(torch.int32)
    counts = as_int.sum(dim=-1, dtype=torch.int32)
    indices = torch.argsort(as_int, dim=-1, descending=True, stable=True).to(torch.int32)
    return counts.contiguous(), indices.contiguous()


def build_sink_block_mask(
    mask: SinkMask,
    query_len: int,
    kv_len: int,
    block_size: int = FLEX_BLOCK_SIZE,
    for_backward: bool = True,
) -> BlockMask:
    """BlockMask of `query_len` rows over a kv axis of `kv_len` slots, for a per-row `mask` (int64 [B] tensors).

    The head dimension is 1 (every head shares the mask); the mask_mod closes over the mask's tensors,
    which must stay unmodified until the backward pass that uses the block mask has run.
    `for_backward=False` skips the transposed (q-major) tile lists that only flex's backward reads;
    they cost most of the build time.
    """
    query_offset, padding, window = mask.query_offset, mask.padding, mask.window
    device = query_offset.device
    q_tiles = (query_len + block_size - 1) // block_size
    kv_tiles = (kv_len + block_size - 1) // block_size

    tile_first_row = torch.arange(q_tiles, device=device) * block_size
    tile_end_row = torch.clamp(tile_first_row + block_size, max=query_len)
    first_position = query_offset[:, None] + tile_first_row[None, :]  # [B, nQ]
    last_position = query_offset[:, None] + tile_end_row[None, :] - 1
    row_padding = padding[:, None]
    seen_from = _interval_start(first_position, row_padding, window)[:, :, None]  # union of the rows' intervals
    seen_to = last_position[:, :, None]
    common_from = _interval_start(last_position, row_padding, window)[:, :, None]  # seen by every row
    common_to = first_position[:, :, None]

    tile_first_col = (torch.arange(kv_tiles, device=device) * block_size)[None, None, :]
    tile_last_col = torch.clamp(tile_first_col + block_size, max=kv_len) - 1
    touched = (seen_from <= seen_to) & (tile_first_col <= seen_to) & (tile_last_col >= seen_from)
    complete_rows = (tile_end_row - tile_first_row == block_size)[None, :, None]
    complete_cols = tile_last_col - tile_first_col == block_size - 1
    full = (
        (tile_first_col >= common_from) & (tile_last_col <= common_to) & complete_rows & complete_cols
    )
    partial = touched & ~full

    kv_num_blocks, kv_indices = _ordered_tiles(partial[:, None])
    full_kv_num_blocks, full_kv_indices = _ordered_tiles(full[:, None])
    return BlockMask.from_kv_blocks(
        kv_num_blocks,
        kv_indices,
        full_kv_num_blocks,
        full_kv_indices,
        BLOCK_SIZE=block_size,
        mask_mod=make_sink_mask_mod(mask),
        seq_lengths=(query_len, kv_len),
        compute_q_blocks=for_backward,
    )
