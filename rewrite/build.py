"""`build`: source model -> capture -> passes (each verified) -> emitted checkpoint."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch

from .capture import capture
from .emit import emit
from .errors import CheckpointError
from .manifest import MXFP4_METHOD
from .pipeline import quantize_pass_names, resolve_pass_names, run_pipeline
from .source import load_source
from .spec import RUNTIME_META_KEY, graph_spec
from .streaming_build import write_streaming
from .tokenizer_files import write_tokenizer
from .verify import sample_batch


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

    `passes`: None for every pass in canonical order, "none" for the structure passes alone, or names (the
    structure passes follow them: `pipeline.resolve_pass_names`). With `verify`,
    each pass is checked against the stage before it on a left-padded sample batch with decode steps.
    `quantize`: None (full precision), "nf4" (appends the quantize_nf4 pass) or "mxfp4" (appends quantize_mxfp4
    and builds streaming, `rewrite.streaming_build`: unverified stage by stage; `rewrite check` verifies the
    result). docs/quantization.md.
    """
    pass_names = resolve_pass_names(passes) + quantize_pass_names(quantize)
    out = Path(out)
    if out.exists() and not force:
        raise CheckpointError(f"{out} already exists; pass --force (force=True) to replace it")
    if quantize == MXFP4_METHOD:
        return write_streaming(out, preset, checkpoint, pass_names, dtype, device, force, progress)
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
