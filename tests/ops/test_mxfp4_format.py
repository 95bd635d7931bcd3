"""MXFP4 as gpt-oss ships it: dequantization equal to transformers' bit for bit, and quantization by the OCP MX v1.0
rules (scale 2**(floor(log2(amax)) - 2), values rounded to the nearest e2m1, ties to even, saturating at 6)."""

import math

import pytest
import torch
from transformers.integrations.mxfp4 import convert_moe_packed_tensors

from rewrite.errors import QuantizationError
from runtime.ops.mxfp4_format import E2M1_VALUES, dequantize_mxfp4, quantize_mxfp4

DTYPES = [torch.bfloat16, torch.float16, torch.float32]


def _bits(tensor: torch.Tensor) -> torch.Tensor:
    """The tensor's bytes in row-major order (NaNs compare equal when their bits do)."""
    return tensor.contiguous().view(torch.uint8)


def _random_packed(experts: int, rows: int, groups: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    blocks = torch.randint(0, 256, (experts, rows, groups, 16), generator=generator, dtype=torch.uint8)
    scales = torch.randint(0, 256, (experts, rows, groups), generator=generator, dtype=torch.uint8)
    scales[0, 0, :2] = torch.tensor([0, 255])  # the extremes always appear: 2**-127 and e8m0's NaN
    return blocks, scales


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_byte_under_every_scale_dequantizes_as_transformers_does_bit_for_bit(dtype):
    blocks = torch.arange(256, dtype=torch.uint8).view(16, 16).expand(256, 16, 16).reshape(1, 256, 16, 16)
    scales = torch.arange(256, dtype=torch.uint8)[None, :, None].expand(1, 256, 16)
    ours = dequantize_mxfp4(blocks, scales, dtype)
    theirs = convert_moe_packed_tensors(blocks, scales, dtype=dtype)
    assert ours.shape == theirs.shape == (1, 16 * 32, 256), "[experts, inputs, rows]: transformers' layout"
    assert torch.equal(_bits(ours), _bits(theirs))


@pytest.mark.parametrize("dtype", DTYPES)
def test_random_experts_dequantize_as_transformers_does_bit_for_bit(dtype):
    blocks, scales = _random_packed(experts=3, rows=40, groups=2)
    assert torch.equal(_bits(dequantize_mxfp4(blocks, scales, dtype)),
                       _bits(convert_moe_packed_tensors(blocks, scales, dtype=dtype)))


def test_one_expert_or_a_slice_of_rows_dequantizes_to_that_part_of_the_whole():
    blocks, scales = _random_packed(experts=3, rows=40, groups=2)
    whole = dequantize_mxfp4(blocks, scales, torch.float32)
    assert torch.equal(_bits(dequantize_mxfp4(blocks[1], scales[1], torch.float32)), _bits(whole[1]))
    assert torch.equal(_bits(dequantize_mxfp4(blocks[2, 8:20], scales[2, 8:20], torch.float32)),
                       _bits(whole[2, :, 8:20]))


def test_the_low_nibble_holds_the_even_input_and_the_scale_has_bias_127():
    blocks = torch.zeros(1, 1, 16, dtype=torch.uint8)
    blocks[0, 0, 0] = 0x2F  # low nibble 0xF (-6), high nibble 0x2 (1)
    weight = dequantize_mxfp4(blocks, torch.tensor([[130]], dtype=torch.uint8), torch.float32)  # 2 ** 3
    assert weight[:2, 0].tolist() == [-48.0, 8.0] and not weight[2:].any()


def test_misshapen_blocks_and_scales_are_refused_with_the_expected_layout():
    blocks, scales = _random_packed(experts=1, rows=4, groups=2)
    with pytest.raises(QuantizationError, match=r"uint8 blocks \[\.\.\., rows, groups, 16\]"):
        dequantize_mxfp4(blocks, scales[..., :1], torch.float32)


def _blockwise(weight: torch.Tensor) -> torch.Tensor:
    """[..., inputs, rows] -> [..., rows, groups, 32]: the values of each block in order."""
    return weight.transpose(-2, -1).unflatten(-1, (-1, 32))


def _random_weight(seed: int = 0) -> torch.Tensor:
    """[2, 128, 24] with blocks of very different magnitudes, as real experts' rows are."""
    generator = torch.Generator().manual_seed(seed)
    magnitudes = torch.exp2(torch.randint(-20, 20, (2, 4, 1, 24), generator=generator).float())
    return (torch.randn(2, 4, 32, 24, generator=generator) * magnitudes).reshape(2, 128, 24)


def test_a_block_scale_is_two_to_the_floor_of_log2_of_its_largest_magnitude_minus_two():
    weight = _random_weight()
    blocks, scales = quantize_mxfp4(weight)
    assert blocks.shape == (2, 24, 4, 16) and scales.shape == (2, 24, 4) and blocks.dtype == scales.dtype == torch.uint8
    largest = _blockwise(weight).abs().amax(-1)
    expected = [math.floor(math.log2(value)) - 2 + 127 for value in largest.flatten().tolist()]
    assert scales.flatten().tolist() == expected


def test_every_value_dequantizes_to_a_nearest_point_of_its_block_grid():
    weight = _random_weight(seed=1)
    blocks, scales = quantize_mxfp4(weight)
    error = (_blockwise(dequantize_mxfp4(blocks, scales, torch.float32)) - _blockwise(weight)).abs()
    grid = torch.tensor(E2M1_VALUES) * torch.exp2(scales.float() - 127)[..., None]  # [..., rows, groups, 16]
    nearest = (_blockwise(weight)[..., None] - grid[..., None, :]).abs().amin(-1)
    assert torch.equal(error, nearest)


def _one_block(values: list[float]) -> torch.Tensor:
    """A weight [32, 1]: `values`, then zeros."""
    return torch.tensor(values + [0.0] * (32 - len(values)))[:, None]


def test_ties_round_to_the_even_code_and_magnitudes_above_six_saturate():
    # 4 fixes the scale at 2**0; each midpoint between neighbours goes to the one with the even code
    ties = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0]
    weight = _one_block([4.0, *ties, *[-tie for tie in ties], 6.5, -7.9])
    blocks, scales = quantize_mxfp4(weight)
    values = dequantize_mxfp4(blocks, scales, torch.float32)[:17, 0].tolist()
    rounded = [0.0, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0]
    assert scales.item() == 127 and values == [4.0, *rounded, *[-value for value in rounded], 6.0, -6.0]


def test_an_all_zero_block_gets_the_smallest_scale_and_zero_codes():
    blocks, scales = quantize_mxfp4(torch.zeros(64, 3))
    assert not blocks.any() and not scales.any()


def test_scales_stay_within_e8m0_for_the_tiniest_and_largest_blocks():
    tiny, huge = quantize_mxfp4(_one_block([2.0**-140]))[1], quantize_mxfp4(_one_block([2.0**127 * 1.5]))[1]
    assert (tiny.item(), huge.item()) == (0, 127 + 125)


def test_values_representable_in_mxfp4_come_back_exactly():
    generator = torch.Generator().manual_seed(2)
    codes = torch.randint(0, 16, (2, 24, 4, 32), generator=generator)
    exponents = torch.randint(-120, 120, (2, 24, 4, 1), generator=generator)
    weight = torch.ldexp(torch.tensor(E2M1_VALUES)[codes], exponents).flatten(-2).transpose(-2, -1)
    assert torch.equal(dequantize_mxfp4(*quantize_mxfp4(weight), torch.float32), weight)


def test_released_bits_quantize_back_to_themselves_when_each_block_holds_a_4_or_a_6():
    blocks, scales = _random_packed(experts=2, rows=24, groups=4, seed=3)
    blocks[..., 0] = (blocks[..., 0] & 0xF0) | 0x06  # first value of every block: 4
    scales = scales.clamp(max=252)  # 6 * 2**(252 - 127) is the largest float32 block
    for dtype in (torch.float32, torch.bfloat16):
        again = quantize_mxfp4(dequantize_mxfp4(blocks, scales, dtype))
        assert torch.equal(again[0], blocks) and torch.equal(again[1], scales), dtype


def test_a_bfloat16_expert_quantizes_as_its_float32_values_do():
    weight = _random_weight(seed=4).bfloat16()
    assert all(torch.equal(a, b) for a, b in zip(quantize_mxfp4(weight), quantize_mxfp4(weight.float()), strict=True))


def test_quantized_experts_dequantize_with_transformers_to_our_values():
    blocks, scales = quantize_mxfp4(_random_weight(seed=5))
    assert torch.equal(convert_moe_packed_tensors(blocks, scales, dtype=torch.float32),
                       dequantize_mxfp4(blocks, scales, torch.float32))


@pytest.mark.parametrize(("weight", "message"), [
    (torch.zeros(2, 48, 8), "multiple of 32"),
    (torch.zeros(2, 64, 8, dtype=torch.int32), "float weight"),
    (_one_block([float("nan")]), "inf or NaN"),
    (_one_block([float("inf")]), "inf or NaN"),
])
def test_weights_mxfp4_cannot_hold_are_refused(weight, message):
    with pytest.raises(QuantizationError, match=message):
        quantize_mxfp4(weight)
