"""MXFP4 weight tiles dequantized in registers: the one place the Triton kernels decode e2m1 values and e8m0 scales.

A matrix in gpt-oss's MXFP4 layout is `blocks` uint8 [rows, groups, 16] and `scales` uint8 [rows, groups]: along
a row, group g holds 32 values, byte j of it values 2j (low nibble) and 2j + 1 (high nibble), each an e2m1 code
(sign, 2 exponent bits, 1 mantissa bit) times 2 ** (scale - 127). This equals transformers'
`convert_moe_packed_tensors` bit for bit wherever the scaled value is a normal number of the tile's dtype (e8m0
scales 2..248, every released gpt-oss scale among them).
"""

from __future__ import annotations

import triton
import triton.language as tl

GROUP_SIZE = 32  # values per e8m0 scale, along the packed dimension


@triton.jit
def dequantized_tile(
    blocks_ptr, scales_ptr, rows, rows_ok, first_group, num_groups, GROUPS: tl.constexpr, dtype: tl.constexpr
):
    """[len(rows), GROUPS * 32] in `dtype`: the values of `rows` of one matrix (its `blocks_ptr` [rows, num_groups,
    16], `scales_ptr` [rows, num_groups], both contiguous) from group `first_group` on; zero where not `rows_ok`
    and past the last group."""
    groups = first_group + tl.arange(0, GROUPS)
    tile_ok = rows_ok[:, None] & (groups < num_groups)[None, :]
    group_offsets = rows[:, None] * num_groups + groups[None, :]
    packed = tl.load(blocks_ptr + group_offsets[:, :, None] * 16 + tl.arange(0, 16)[None, None, :],
                     mask=tile_ok[:, :, None], other=0)
    scale = tl.load(scales_ptr + group_offsets, mask=tile_ok, other=0).to(tl.int32)
    # An e2m1 code's magnitude bits shifted left by 2 are the e4m3 code of the same value times 2 ** -6 (code 1,
    # 0.5, lands on an e4m3 subnormal) and its sign bit moves to bit 7; the factor 2 ** (scale - 127 + 6) is
    # built from its float32 exponent bits. Both products are exact.
    low = ((packed & 0x07) << 2) | ((packed & 0x08) << 4)
    high = ((packed >> 2) & 0x1C) | (packed & 0x80)
    factor = ((scale + 6) << 23).to(tl.float32, bitcast=True)[:, :, None]
    low_values = low.to(tl.float8e4nv, bitcast=True).to(tl.float32) * factor
    high_values = high.to(tl.float8e4nv, bitcast=True).to(tl.float32) * factor
    values = tl.join(low_values, high_values)  # [rows, GROUPS, 16, 2]: value 2j + nibble of each group
    return tl.reshape(values, (rows.shape[0], GROUPS * 32)).to(dtype)

