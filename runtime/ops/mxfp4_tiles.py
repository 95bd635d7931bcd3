"""MXFP4 weight tiles dequantized in registers: the one place the Triton kernels decode e2m1 values and e8m0 scales.

A matrix in gpt-oss's MXFP4 layout is `blocks` uint8 [rows, groups, 16] and `scales` uint8 [rows, groups]: along
a row, group g holds 32 values, byte j of it values 2j (low nibble) and 2j + 1 (high nibble), each an e2m1 code
(sign, 2 exponent bits, 1 mantissa bit) times 2 ** (scale - 127).

`dequantized_tile` has two implementations of one contract. On a GPU in bf16 it decodes four bytes with fourteen
integer instructions and four packed bf16 multiplies (inline PTX, elementwise, so Triton may hoist it into the dot
operand's layout) and returns the values times 2 ** -TILE_EXPONENT, which keeps the one factor per group inside
bf16's normal range; elsewhere (float16, float32, the Triton interpreter) it decodes in plain Triton, values as
they are. A kernel multiplies its float32 product by `tile_factor`. Either way the products are exact, so a tile
equals transformers' `convert_moe_packed_tensors` bit for bit wherever the scaled value is a normal number of the
tile's dtype, for e8m0 scales 66..192 in bf16 (2..248 otherwise): every released gpt-oss scale among them.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

GROUP_SIZE = 32  # values per e8m0 scale, along the packed dimension
TILE_EXPONENT = tl.constexpr(64)  # the tile holds values times 2 ** -TILE_EXPONENT
TILE_FACTOR = tl.constexpr(2.0**64)

# Elementwise over four bytes ($4): $0 = values of the low nibbles of bytes 0 and 1 (bf16x2), $1 of bytes 2 and 3, $2
# and $3 of the high nibbles. `prmt` spreads two bytes over the two halves of a register; one nibble of each half is
# kept and multiplied by 2 ** 6 + 2 ** 12 (the low nibble; 2 ** 2 + 2 ** 8 the high one), whose two shifted copies do
# not overlap, so the mask 0x81C0 keeps the code's magnitude on bf16 bits 8..6 (exponent 0..3, mantissa bit) from
# one copy and its sign on bit 15 from the other: the code's value times 2 ** -126 (code 1, 0.5, lands on a
# subnormal). $5 and $6 (bf16x2, the bytes' scale factors) scale it.
_DECODE_E2M1 = tl.constexpr("""{
.reg .b32 x, y, m;
prmt.b32 x, $4, 0, 0x4140; prmt.b32 y, $4, 0, 0x4342;
and.b32 m, x, 0x000F000F; mul.lo.u32 m, m, 0x1040; and.b32 m, m, 0x81C081C0; mul.rn.bf16x2 $0, m, $5;
and.b32 m, y, 0x000F000F; mul.lo.u32 m, m, 0x1040; and.b32 m, m, 0x81C081C0; mul.rn.bf16x2 $1, m, $6;
and.b32 m, x, 0x00F000F0; mul.lo.u32 m, m, 0x104; and.b32 m, m, 0x81C081C0; mul.rn.bf16x2 $2, m, $5;
and.b32 m, y, 0x00F000F0; mul.lo.u32 m, m, 0x104; and.b32 m, m, 0x81C081C0; mul.rn.bf16x2 $3, m, $6;
}""")


def ptx_decodes(activations: torch.Tensor) -> bool:
    """Whether kernels over `activations` take the inline-PTX decode (the PTX argument of `dequantized_tile`)."""
    return activations.is_cuda and activations.dtype == torch.bfloat16


@triton.jit
def tile_factor(PTX: tl.constexpr):
    """What a product over `dequantized_tile(..., PTX)` tiles is multiplied by: TILE_FACTOR after the PTX decode."""
    return TILE_FACTOR if PTX else 1.0


@triton.jit
def dequantized_tile(
    blocks_ptr, scales_ptr, rows, rows_ok, first_group, num_groups, GROUPS: tl.constexpr, dtype: tl.constexpr,
    PTX: tl.constexpr,
):
    """[len(rows), GROUPS * 32] in `dtype`: the values of `rows` of one matrix (its `blocks_ptr` [rows, num_groups,
    16], `scales_ptr` [rows, num_groups], both contiguous) from group `first_group` on, times `tile_factor(PTX)` ** -1;
    zero where not `rows_ok` and past the last group. PTX (bf16 on a GPU): the inline-PTX decode; else plain Triton
    (any dtype; the interpreter), bit for bit the same values wherever both are normal numbers."""
    low, high = _nibble_values(blocks_ptr, scales_ptr, rows, rows_ok, first_group, num_groups, GROUPS, PTX)
    values = tl.join(low, high)  # [rows, GROUPS, 16, 2]: value 2j + nibble of each group
    return _in_dtype(tl.reshape(values, (rows.shape[0], GROUPS * 32)), dtype, PTX)


@triton.jit
def dequantized_halves(
    blocks_ptr, scales_ptr, rows, rows_ok, first_group, num_groups, GROUPS: tl.constexpr, dtype: tl.constexpr,
    PTX: tl.constexpr,
):
    """`dequantized_tile`'s values as two [len(rows), GROUPS * 16] tiles: the even inputs 32g + 2j and the odd ones
    32g + 2j + 1 of each group g. A product over the halves (the activations' even and odd columns) skips the
    interleaving of the full tile."""
    low, high = _nibble_values(blocks_ptr, scales_ptr, rows, rows_ok, first_group, num_groups, GROUPS, PTX)
    shape: tl.constexpr = (rows.shape[0], GROUPS * 16)
    return _in_dtype(tl.reshape(low, shape), dtype, PTX), _in_dtype(tl.reshape(high, shape), dtype, PTX)


@triton.jit
def _nibble_values(blocks_ptr, scales_ptr, rows, rows_ok, first_group, num_groups, GROUPS: tl.constexpr,
                   PTX: tl.constexpr):
    """([rows, GROUPS, 16], same): the values of the low and of the high nibbles of `dequantized_tile`'s bytes, as
    their bf16 bits in int16 (PTX) or in float32; `_in_dtype` makes them values of the tile's dtype. The bits stay
    int16 through joins and reshapes: a bf16 join feeding a wgmma operand stops Triton 3.6's compile ("Illegal
    shared layout")."""
    groups = first_group + tl.arange(0, GROUPS)
    tile_ok = rows_ok[:, None] & (groups < num_groups)[None, :]
    group_offsets = rows[:, None] * num_groups + groups[None, :]
    packed = tl.load(blocks_ptr + group_offsets[:, :, None] * 16 + tl.arange(0, 16)[None, None, :],
                     mask=tile_ok[:, :, None], other=0)
    scale = tl.load(scales_ptr + group_offsets, mask=tile_ok, other=0)
    if PTX:
        exponent = scale.to(tl.int32) + (126 - TILE_EXPONENT)  # bf16 exponent field of 2 ** (scale - 1 - 64)
        factor = (exponent << 7).to(tl.int16).to(tl.bfloat16, bitcast=True)
        return tl.inline_asm_elementwise(
            _DECODE_E2M1, "=r,=r,=r,=r,r,r,r", [packed, tl.broadcast_to(factor[:, :, None], packed.shape)],
            dtype=(tl.int16, tl.int16), is_pure=True, pack=4,
        )
    else:
        # An e2m1 code's magnitude bits shifted left by 2 are the e4m3 code of the same value times 2 ** -6 (code
        # 1, 0.5, lands on an e4m3 subnormal) and its sign bit moves to bit 7; the factor 2 ** (scale - 127 + 6) is
        # built from its float32 exponent bits. Both products are exact.
        factor = ((scale.to(tl.int32) + 6) << 23).to(tl.float32, bitcast=True)[:, :, None]
        low_codes = ((packed & 0x07) << 2) | ((packed & 0x08) << 4)
        high_codes = ((packed >> 2) & 0x1C) | (packed & 0x80)
        low = low_codes.to(tl.float8e4nv, bitcast=True).to(tl.float32) * factor
        high = high_codes.to(tl.float8e4nv, bitcast=True).to(tl.float32) * factor
        return low, high


@triton.jit
def _in_dtype(nibble_values, dtype: tl.constexpr, PTX: tl.constexpr):
    """`_nibble_values`' output (joined or reshaped as the caller needs) as values in `dtype`."""
    if PTX:
        return nibble_values.to(tl.bfloat16, bitcast=True)
    else:
        return nibble_values.to(dtype)
