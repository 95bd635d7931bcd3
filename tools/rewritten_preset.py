"""A preset captured and rewritten in memory, for benchmarks: no checkpoint is written or read."""

from __future__ import annotations

import gc

import torch

from rewrite import RewrittenGptOss, build_preset, capture
from rewrite.build import quantize_pass_names
from rewrite.pipeline import resolve_pass_names, run_pipeline
from rewrite.spec import graph_spec


def rewritten_preset(preset: str, dtype: torch.dtype, device: str | torch.device,
                     quantize: str | None = None) -> RewrittenGptOss:
    """The preset with `rewrite build`'s default passes (and `--quantize`'s), unverified. The transformers model is
    dropped after capture, so only the rewritten weights stay on the device."""
    model = build_preset(preset, dtype=dtype, device=device)
    model.requires_grad_(False)
    graph_module = capture(model)
    del model
    run_pipeline(graph_module, resolve_pass_names("default") + quantize_pass_names(quantize))
    gc.collect()
    if torch.device(device).type == "cuda":
        torch.cuda.empty_cache()
    return RewrittenGptOss(graph_module, graph_spec(graph_module))
