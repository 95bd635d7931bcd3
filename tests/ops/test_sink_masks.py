"""The flex backend's mask logic, checked on CPU so CI covers what the CUDA kernels will read.

The mask_mod must equal transformers' dense mask pair by pair; the block mask built from index
arithmetic must list exactly the tiles that `create_block_mask` finds by evaluating that mask_mod;
and flex's eager (CPU, forward-only) implementation with our block mask and sigmoid renormalisation
must reproduce HF eager attention.
"""

import warnings

import pytest
import torch
from torch.nn.attention.flex_attention import create_block_mask

from runtime.ops import SinkMask, build_sink_block_mask, make_sink_mask_mod, sink_attention
from runtime.ops.sink_attention_flex import block_mask_for

MASK_CASES = {
    "sliding_prefill_left_padded": dict(q_len=37, kv_len=37, query_offset=[0, 0, 0], padding=[0, 5, 30], window=8),
    "full_prefill_left_padded": dict(q_len=37, kv_len=37, query_offset=[0, 0, 0], padding=[0, 5, 30], window=None),
    "decode_per_row_offsets": dict(q_len=1, kv_len=45, query_offset=[44, 20, 3], padding=[0, 9, 4], window=8),
    "chunk_appended_sliding": dict(q_len=5, kv_len=45, query_offset=[21, 21, 21], padding=[2, 0, 17], window=6),
    "chunk_appended_full": dict(q_len=13, kv_len=45, query_offset=[30, 30, 30], padding=[2, 0, 17], window=None),
}
TILE = 4  # small tiles so a short case spans many of them, ragged ends included


def listed_tiles(num_blocks: torch.Tensor, indices: torch.Tensor, kv_tiles: int) -> torch.Tensor:
    """Dense bool [B, nQ, nK] of the tiles an ordered (count, indices) pair lists (head 0)."""
    batch, _, q_tiles = num_blocks.shape
    dense = torch.zeros(batch, q_tiles, kv_tiles, dtype=torch.bool)
    for b in range(batch):
        for row in range(q_tiles):
            dense[b, row, indices[b, 0, row, : num_blocks[b, 0, row]].long()] = True
    return dense


@pytest.mark.parametrize("name", MASK_CASES)
def test_mask_mod_equals_the_dense_hf_mask_on_every_pair(make_case, name):
    case = make_case(batch=3, **MASK_CASES[name])
    batch, _, q_len, _ = case.query.shape
    kv_len = case.key.shape[2]
    mask_mod = make_sink_mask_mod(case.mask())
    b = torch.arange(batch)[:, None, None]
    q_idx = torch.arange(q_len, dtype=torch.int32)[None, :, None]
    kv_idx = torch.arange(kv_len, dtype=torch.int32)[None, None, :]
    assert torch.equal(mask_mod(b, torch.zeros_like(b), q_idx, kv_idx), case.visible())


@pytest.mark.parametrize("name", MASK_CASES)
def test_block_mask_lists_the_tiles_create_block_mask_finds(make_case, name):
    case = make_case(batch=3, **MASK_CASES[name])
    batch, _, q_len, _ = case.query.shape
    kv_len = case.key.shape[2]
    ours = build_sink_block_mask(case.mask(), q_len, kv_len, block_size=TILE)
    mask_mod = make_sink_mask_mod(case.mask())
    theirs = create_block_mask(mask_mod, batch, 1, q_len, kv_len, device="cpu", BLOCK_SIZE=TILE)
    kv_tiles = -(-kv_len // TILE)

    def tiles(mask):
        partial = listed_tiles(mask.kv_num_blocks, mask.kv_indices, kv_tiles)
        full = listed_tiles(mask.full_kv_num_blocks, mask.full_kv_indices, kv_tiles)
        assert not (partial & full).any()
        return partial | full, full

    our_touched, our_full = tiles(ours)
    their_touched, their_full = tiles(theirs)
    assert torch.equal(our_touched, their_touched)
    assert not (our_full & ~their_full).any(), "a tile listed as full holds an invisible pair"
    interior = torch.zeros_like(their_full)
    interior[:, : q_len // TILE, : kv_len // TILE] = True
    assert torch.equal(our_full & interior, their_full & interior), "an interior full tile is listed as partial"
    assert ours.shape[-2:] == (q_len, kv_len)


def flex_on_cpu(*args):
    """`sink_attention` forced onto flex, which on CPU runs its eager forward-only reference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # flex warns that it runs uncompiled
        return sink_attention(*args, implementation="flex")


@pytest.mark.parametrize("name", MASK_CASES)
@pytest.mark.parametrize("kv_heads", [2, 4], ids=["gqa", "mha"])
def test_flex_backend_forward_on_cpu_matches_hf(make_case, hf_eager, name, kv_heads):
    case = make_case(batch=3, kv_heads=kv_heads, **MASK_CASES[name])
    leaves = [tensor.detach() for tensor in case.leaves()]  # flex on CPU has no backward
    out = flex_on_cpu(*leaves, case.mask(), case.scale)
    torch.testing.assert_close(out, hf_eager(case).detach(), atol=1e-5, rtol=1e-5)


def test_flex_backend_reads_a_dense_mask_like_hf(make_case, hf_eager):
    case = make_case(batch=3, **MASK_CASES["chunk_appended_sliding"])
    hidden = ~case.visible()[:, None]
    dense = torch.zeros(hidden.shape).masked_fill(hidden, torch.finfo(torch.float32).min)
    out = flex_on_cpu(*[tensor.detach() for tensor in case.leaves()], dense, case.scale)
    torch.testing.assert_close(out, hf_eager(case).detach(), atol=1e-5, rtol=1e-5)


def test_layers_given_one_sink_mask_share_one_block_mask_and_a_new_sink_mask_builds_its_own(make_case):
    case = make_case(q_len=1, kv_len=40, query_offset=[30, 30], padding=[0, 4], window=8)
    query, key = case.query.detach(), case.key.detach()
    description = case.mask()
    first = block_mask_for(description, query, key, for_backward=False)
    assert block_mask_for(description, query, key, for_backward=False) is first
    assert len(description.block_masks) == 1, "the block mask is kept on the description, nowhere else"
    next_step = SinkMask(case.query_offset + 5, case.padding, case.window)  # the next decode step's description
    advanced = block_mask_for(next_step, query, key, for_backward=False)
    assert advanced is not first
    expected = build_sink_block_mask(next_step, 1, 40, for_backward=False)
    assert torch.equal(advanced.kv_num_blocks, expected.kv_num_blocks)
    assert torch.equal(advanced.kv_indices, expected.kv_indices)
    assert block_mask_for(description, query, key, for_backward=True) is not first, "a backward needs q-major lists"
