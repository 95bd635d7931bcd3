"""Random weights for a preset drawn tensor by tensor, rows by rows: `--fsdp --preset` and streaming MXFP4 builds.

Each floating tensor is cut along dim 0 into chunks of `rows_per_chunk(shape)` rows (about `CHUNK_ELEMENTS`
elements) and chunk c of tensor NAME is drawn from a generator seeded by (`PRESET_SEED`, NAME, c) on the process's
device. A process that holds rows [start, end) draws only the chunks that overlap them (at most two chunks more than
its rows), so no process ever holds a whole sharded tensor, and every row's value depends on the tensor and the row
only: the weights are the same however many processes share them (on one kind of device: CUDA and CPU generators
differ). They are not the weights `rewrite build --preset` draws (transformers draws those in sequence from one
generator, which cannot be split by rows).

Which value each tensor takes, first matching rule by name (as transformers initialises gpt-oss): the RMSNorm weights
are ones, the biases zeros (except the router's), everything else normal(0, initializer_range) of the preset's config.
"""

from __future__ import annotations

import math

import torch

from .presets import PRESET_SEED
from .seeds import seeded_generator

CHUNK_ELEMENTS = 1 << 24  # 32 MiB of bf16: what a process may draw beyond its own rows, twice
NORMAL, ONES, ZEROS = "normal", "ones", "zeros"
# (name suffix, value): the first rule whose suffix ends the tensor's name applies.
RULES = (("norm.weight", ONES), ("router.bias", NORMAL), ("bias", ZEROS), ("", NORMAL))
DESCRIPTION = ("RMSNorm weights 1, biases 0 but the router's, else normal(0, initializer_range), drawn per "
               f"({PRESET_SEED}, tensor name, chunk of rows): rewrite.random_weights")


def rows_per_chunk(shape: torch.Size) -> int:
    """How many dim-0 rows one generator draws for a tensor of `shape`."""
    return max(1, CHUNK_ELEMENTS // max(1, math.prod(shape[1:])))


def fill_rows(local: torch.Tensor, name: str, shape: torch.Size, start: int, std: float) -> None:
    """Fill `local`, rows [start, start + len(local)) of the tensor NAME of `shape`, with that tensor's values
    (in place: call it under `torch.no_grad()` for a parameter's data)."""
    value = next(value for suffix, value in RULES if name.endswith(suffix))
    if value != NORMAL:
        local.fill_(1.0 if value == ONES else 0.0)
        return
    chunk_rows, end = rows_per_chunk(shape), start + local.shape[0]
    for chunk in range(start // chunk_rows, math.ceil(end / chunk_rows)):
        first, last = chunk * chunk_rows, min((chunk + 1) * chunk_rows, shape[0])
        drawn = torch.empty((last - first, *shape[1:]), dtype=local.dtype, device=local.device)
        drawn.normal_(0.0, std, generator=seeded_generator(local.device, PRESET_SEED, name, chunk))
        low, high = max(first, start), min(last, end)
        local[low - start : high - start].copy_(drawn[low - first : high - first])
