"""MXFP4 (OCP Microscaling v1.0, FP4 elements) as gpt-oss's released checkpoints store expert matrices.

Layout, per matrix of `rows` outputs and `inputs` = 32 * groups inputs (`...` is any leading dims, e.g. experts):
- `blocks` uint8 [..., rows, groups, 16]: 32 e2m1 codes per block of 32 consecutive inputs, two per byte, the
  low nibble first (element 2j in the low nibble of byte j, element 2j + 1 in the high one). A code is sign (bit
  3), exponent (bits 2-1), mantissa (bit 0): the values 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives.
- `scales` uint8 [..., rows, groups]: each block's e8m0 scale, the power of two 2**(scale - 127).
Dequantized, a matrix is [..., inputs, rows]: transformers' layout (`GptOssExperts`, `x @ weight`), the one
`convert_moe_packed_tensors` returns. Every dequantized value is exact (a 4-bit value times a power of two) up to
the one rounding into the target dtype, and equals transformers' bit for bit, scale 255 (e8m0's NaN) included.

Quantizing follows the spec's rule: a block's scale is 2**(floor(log2(amax)) - 2), 2 being e2m1's largest
exponent, kept within e8m0's [-127, 127]; each value divided by it is rounded to the nearest e2m1 value, ties to
the even code, saturating at 6 (values in (6, 8) times the scale become 6). An all-zero block has scale 0 (2**-127).
Already representable blocks come back unchanged, and so do released bits whose blocks each hold a 4 or a 6.
"""

from __future__ import annotations

import torch

from rewrite.errors import QuantizationError

BLOCK_SIZE = 32  # values per scale
SCALE_BIAS = 127  # e8m0: scale byte s means 2 ** (s - 127)
E2M1_MAX_EXPONENT = 2  # the largest e2m1 value, 6, is 1.5 * 2 ** 2
# the value of each 4-bit code, as transformers' `FP4_VALUES`
E2M1_VALUES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, -0.0, -0.5, -1.0, -1.5, -2.0, -3.0, -4.0, -6.0)
# halfway between consecutive magnitudes: a magnitude above the k-th midpoint rounds to code k + 1 or higher
_MIDPOINTS = (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0)
# midpoints whose upper neighbour has the even code (2, 4, 6): ties there round up, at the others down
_TIES_UP = (0.75, 1.75, 3.5)
_SIGN_BIT = 8


def dequantize_mxfp4(blocks: torch.Tensor, scales: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """`blocks` [..., rows, groups, 16] and `scales` [..., rows, groups] as a `dtype` tensor [..., 32 * groups, rows].

    Works on any slice of the leading dims or rows (one expert, a range of output columns); the result is a
    transposed view of row-major [..., rows, inputs] values, as `x @ weight` and its backward read it.
    """
    if blocks.dtype != torch.uint8 or scales.dtype != torch.uint8 or blocks.shape[:-1] != scales.shape \
            or blocks.dim() < 3 or blocks.shape[-1] != BLOCK_SIZE // 2:
        raise QuantizationError(
            f"MXFP4 blocks {blocks.dtype} {list(blocks.shape)} and scales {scales.dtype} {list(scales.shape)} do not "
            "fit together: expected uint8 blocks [..., rows, groups, 16] and uint8 scales [..., rows, groups], as "
            "gpt-oss checkpoints store *_blocks and *_scales"
        )
    codes = torch.stack((blocks & 0x0F, blocks >> 4), dim=-1).flatten(-2)  # [..., rows, groups, 32]
    values = torch.tensor(E2M1_VALUES, dtype=dtype, device=blocks.device)[codes.int()]
    # ldexp (not a float exponent table), as transformers computes it: the power of two is formed in float32, where
    # scale 255 (e8m0's NaN) overflows to inf, and the product is rounded into `dtype` once
    scaled = torch.ldexp(values, scales.int()[..., None] - SCALE_BIAS).to(dtype)
    return scaled.flatten(-2).transpose(-2, -1)


def quantize_mxfp4(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A weight [..., inputs, rows] (the layout `dequantize_mxfp4` returns; pass [..., rows, inputs] transposed) as
    MXFP4 (`blocks` uint8 [..., rows, inputs / 32, 16], `scales` uint8 [..., rows, inputs / 32]).

    `QuantizationError` when `inputs` is not a multiple of 32 or the weight holds inf or NaN.
    """
    inputs = weight.shape[-2] if weight.dim() >= 2 else 0
    if weight.dim() < 2 or inputs % BLOCK_SIZE or not weight.is_floating_point():
        raise QuantizationError(
            f"cannot quantize a {weight.dtype} weight {list(weight.shape)} to MXFP4: it needs a float weight "
            f"[..., inputs, outputs] whose inputs are a multiple of {BLOCK_SIZE}; quantize experts whose hidden and "
            "intermediate sizes are, as gpt-oss's are, or keep them in full precision"
        )
    if not torch.isfinite(weight).all():
        raise QuantizationError("cannot quantize a weight with inf or NaN values to MXFP4: check where it came from")
    rows = weight.transpose(-2, -1).float().contiguous()
    groups = rows.unflatten(-1, (inputs // BLOCK_SIZE, BLOCK_SIZE))  # [..., rows, groups, 32]
    largest = groups.abs().amax(-1)
    floor_log2 = torch.frexp(largest).exponent - 1  # largest = mantissa * 2**exponent, mantissa in [0.5, 1)
    exponent = (floor_log2 - E2M1_MAX_EXPONENT).clamp(-SCALE_BIAS, SCALE_BIAS)
    exponent = torch.where(largest == 0, -SCALE_BIAS, exponent)
    codes = e2m1_codes(torch.ldexp(groups, -exponent[..., None]))  # dividing by a power of two: exact
    blocks = codes[..., 0::2] | (codes[..., 1::2] << 4)
    return blocks, (exponent + SCALE_BIAS).to(torch.uint8)


def e2m1_codes(values: torch.Tensor) -> torch.Tensor:
    """uint8 codes of the e2m1 values nearest to float `values`: ties to the even code, magnitudes above 6 to 6,
    the sign kept (negative values that round to zero become -0)."""
    magnitude = values.abs()
    midpoints = torch.tensor(_MIDPOINTS, dtype=magnitude.dtype, device=magnitude.device)
    ties_up = torch.tensor(_TIES_UP, dtype=magnitude.dtype, device=magnitude.device)
    # bucketize counts the midpoints strictly below each magnitude: the code, with ties rounded down
    code = torch.bucketize(magnitude, midpoints) + torch.isin(magnitude, ties_up)
    return (code + _SIGN_BIT * torch.signbit(values)).to(torch.uint8)
