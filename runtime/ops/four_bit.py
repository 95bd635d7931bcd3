"""How a 4-bit module stores its weights: bitsandbytes' blockwise NF4 (or FP4) codes, optionally with the block
scales quantized again (double quantization), and the import of bitsandbytes with a message that says how to get it.

A weight quantized in `FourBitFormat` is a uint8 tensor of packed 4-bit codes plus the tensors of its bitsandbytes
`QuantState`: `absmax` (one scale per block; uint8 codes when double-quantized), and when double-quantized the
scales' own `nested_absmax` (float32, one per 256 scales) and `offset` (their mean). All are plain tensors, so a
checkpoint keeps them in safetensors; `quant_map` and `nested_quant_map` are bitsandbytes' code books.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from rewrite.errors import QuantizationError

QUANT_TYPES = ("nf4", "fp4")
BLOCKSIZES = (64, 128, 256, 512, 1024, 2048, 4096)
NESTED_BLOCKSIZE = 256  # bitsandbytes quantizes the block scales in blocks of 256 (`quantize_4bit`)
INSTALL_HINT = "pip install bitsandbytes (or pip install 'gpt-oss-rewrite[nf4]')"


def import_bitsandbytes():
    """The bitsandbytes module; `QuantizationError` saying how to install it when it is missing."""
    try:
        import bitsandbytes
    except ImportError as error:
        raise QuantizationError(
            f"4-bit weights need bitsandbytes, which cannot be imported here ({error}): {INSTALL_HINT}"
        ) from error
    return bitsandbytes


@dataclass(frozen=True)
class FourBitFormat:
    """bitsandbytes' 4-bit settings: code book, values per block scale, double quantization, compute dtype."""

    quant_type: str = "nf4"
    blocksize: int = 64
    double_quant: bool = True
    compute_dtype: str = "float32"

    def __post_init__(self) -> None:
        if self.quant_type not in QUANT_TYPES:
            raise QuantizationError(
                f"4-bit quantization type {self.quant_type!r} is not one bitsandbytes stores ({', '.join(QUANT_TYPES)}); "
                "rebuild the checkpoint with `rewrite build --quantize nf4`"
            )
        if self.blocksize not in BLOCKSIZES:
            raise QuantizationError(
                f"4-bit block size {self.blocksize} is not one of {BLOCKSIZES}; rebuild with `rewrite build --quantize nf4`"
            )
        dtype = getattr(torch, self.compute_dtype, None)
        if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
            raise QuantizationError(f"4-bit compute dtype {self.compute_dtype!r} is not a torch floating dtype")

    @property
    def dtype(self) -> torch.dtype:
        return getattr(torch, self.compute_dtype)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> FourBitFormat:
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise QuantizationError(
                f"4-bit settings name {', '.join(unknown)}, which this version does not know; upgrade "
                "gpt-oss-rewrite or rebuild the checkpoint"
            )
        return cls(**data)


def dequantize_with_torch(codes: torch.Tensor, state) -> torch.Tensor:
    """bitsandbytes' `dequantize_4bit(codes, state)` in plain torch ops: the same float32 products, so the same
    numbers. On CPU, bitsandbytes' kernels run on an OpenMP runtime of their own, and alternating them with torch's
    ops made a tiny training step ten times slower (each runtime's threads spin while the other works).

    `state` is a bitsandbytes `QuantState`: two codes per byte (the first in the high half), `code[index]` times the
    absmax of the value's block; a double-quantized absmax is itself `state2.code[index] * state2.absmax[block]`
    plus `offset`."""
    absmax = state.absmax
    if state.nested:
        nested = state.state2
        scales = nested.absmax.repeat_interleave(nested.blocksize)[: absmax.numel()]
        absmax = nested.code[absmax.int()] * scales + state.offset
    flat = codes.reshape(-1)
    values = state.code[torch.stack([flat >> 4, flat & 15], dim=-1).reshape(-1)[: state.shape.numel()].int()]
    return (values * absmax.repeat_interleave(state.blocksize)[: values.numel()]).to(state.dtype).reshape(state.shape)
