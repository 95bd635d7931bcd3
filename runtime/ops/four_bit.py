"""How a 4-bit module stores its weights: bitsandbytes' blockwise NF4 (or FP4) codes, optionally with the block
scales quantized again (double quantization), and the import of bitsandbytes with a message that says how to get it.

A weight quantized in `FourBitFormat` is a uint8 tensor of packed 4-bit codes plus the tensors of its bitsandbytes
`QuantState`: `absmax` (one scale per block; uint8 codes when double-quantized), and when double-quantized the
scales' own `nested_absmax` (float32, one per 256 scales) and `offset` (their mean). All are plain tensors, so a
checkpoint keeps them in safetensors; `quant_map` and `nested_quant_map` are bitsandbytes' code books.
"""

from __future__ import annotations

import math
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
                f"4-bit quantization type {self.quant_type!r} is not one bitsandbytes stores "
                f"({', '.join(QUANT_TYPES)}); rebuild the checkpoint with `rewrite build --quantize nf4`"
            )
        if self.blocksize not in BLOCKSIZES:
            raise QuantizationError(
                f"4-bit block size {self.blocksize} is not one of {BLOCKSIZES}; "
                "rebuild with `rewrite build --quantize nf4`"
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
    four_bit_format = FourBitFormat(state.quant_type, state.blocksize, state.nested,
                                    str(state.dtype).removeprefix("torch."))
    nested = (
        (state.state2.absmax[None], torch.as_tensor(state.offset)[None], state.state2.code) if state.nested else None
    )
    return dequantize_stacked(codes.reshape(1, -1), state.absmax[None], tuple(state.shape), four_bit_format,
                              state.code, nested, use_bitsandbytes=False)[0]


def dequantize_stacked(
    codes: torch.Tensor,
    absmax: torch.Tensor,
    shape: tuple[int, ...],
    four_bit_format: FourBitFormat,
    code_book: torch.Tensor,
    nested: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    use_bitsandbytes: bool = True,
) -> torch.Tensor:
    """[E, *shape] in the format's compute dtype: E weights of `shape`, each quantized on its own by bitsandbytes'
    `quantize_4bit`, with their codes [E, ceil(numel / 2)] and block scales [E, blocks] stacked. Double-quantized
    scales are uint8 codes and `nested` = (nested_absmax [E, scale blocks], offset [E], nested code book).

    The numbers are `dequantize_4bit`'s for each weight (float32 products, then the compute dtype). On CUDA outside
    torch.compile it is one bitsandbytes kernel over all E weights when no block straddles two of them (unless
    `use_bitsandbytes` is False); otherwise plain torch ops, which inductor fuses into one kernel inside a compiled
    step."""
    experts, numel = codes.shape[0], math.prod(shape)
    if nested is not None:
        nested_absmax, offset, nested_code_book = nested
        scale_block = torch.arange(absmax.shape[1], device=absmax.device) // NESTED_BLOCKSIZE
        absmax = nested_code_book[absmax.int()] * nested_absmax[:, scale_block] + offset[:, None]
    whole_blocks = numel % four_bit_format.blocksize == 0
    if use_bitsandbytes and codes.is_cuda and not torch.compiler.is_compiling() and whole_blocks:
        functional = import_bitsandbytes().functional
        state = functional.QuantState(
            absmax=absmax.reshape(-1), shape=torch.Size([experts, *shape]), code=code_book,
            blocksize=four_bit_format.blocksize, quant_type=four_bit_format.quant_type, dtype=four_bit_format.dtype,
        )
        return functional.dequantize_4bit(codes.reshape(-1), state)
    index = torch.stack([codes >> 4, codes & 15], dim=-1).reshape(experts, -1)[:, :numel]
    block = torch.arange(numel, device=codes.device) // four_bit_format.blocksize
    values = code_book[index.int()] * absmax[:, block]
    return values.to(four_bit_format.dtype).reshape(experts, *shape)
