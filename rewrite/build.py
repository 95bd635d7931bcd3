"""`build`: source model -> capture -> passes (each verified) -> emitted checkpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from .capture import capture
from .emit import emit
from .errors import CheckpointError, QuantizationError
from .pipeline import resolve_pass_names, run_pipeline
from .source import load_source
from .spec import RUNTIME_META_KEY, graph_spec
from .tokenizer_files import write_tokenizer
from .verify import sample_batch

QUANTIZE_PASSES = {"nf4": "quantize_nf4"}  # --quantize value -> the pass that makes it


def build(
    out: str | Path,
    preset: str | None = None,
    checkpoint: str | Path | None = None,
    passes: str | list[str] | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    force: bool = False,
    verify: bool = True,
    quantize: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> Path:
    """Build a rewritten checkpoint in `out` and return its path.

    `passes`: None for every pass in canonical order, "none" for capture only, or names. With `verify`,
    each pass is checked against the stage before it on a left-padded sample batch with decode steps.
    `quantize`: None (full precision) or "nf4", which appends the quantize_nf4 pass (docs/quantization.md).
    """
    pass_names = resolve_pass_names(passes) + quantize_pass_names(quantize)
    out = Path(out)
    if out.exists() and not force:
        raise CheckpointError(f"{out} already exists; pass --force (force=True) to replace it")
    start = time.perf_counter()
    progress(f"loading {'preset ' + preset if preset else checkpoint} ({str(dtype).removeprefix('torch.')}, {device})")
    model, source = load_source(preset=preset, checkpoint=checkpoint, dtype=dtype, device=device)
    progress("capturing the forward with torch.export")
    graph_module = capture(model)
    progress(f"captured {len(graph_module.graph.nodes)} nodes [{time.perf_counter() - start:.1f}s]")
    batch = sample_batch(graph_spec(graph_module), device=device) if verify else None
    reports = run_pipeline(graph_module, pass_names, verify_batch=batch, progress=progress)
    progress(f"writing {out}")
    emit(graph_module, model, out, source=source, reports=reports, force=force,
         runtime_options=graph_module.meta.get(RUNTIME_META_KEY, {}),
         write_tokenizer=partial(write_tokenizer, preset=preset, checkpoint=checkpoint))
    progress(f"done in {time.perf_counter() - start:.1f}s")
    return out


def quantize_pass_names(quantize: str | None) -> list[str]:
    """The passes that `--quantize` adds; `QuantizationError` for a quantization we do not make."""
    if quantize is None:
        return []
    if quantize not in QUANTIZE_PASSES:
        raise QuantizationError(
            f"unknown quantization {quantize!r}: --quantize takes {', '.join(QUANTIZE_PASSES)} (bitsandbytes 4-bit "
            "NormalFloat), or leave it out to keep the model's dtype"
        )
    return [QUANTIZE_PASSES[quantize]]
