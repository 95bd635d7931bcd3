"""A preset captured and rewritten in memory, for benchmarks: no checkpoint is written or read."""

from __future__ import annotations

import gc

import torch

from rewrite import RewrittenGptOss, build_preset, capture
from rewrite.meta_build import build_on_meta
from rewrite.pipeline import quantize_pass_names, resolve_pass_names, run_pipeline
from rewrite.presets import preset_config
from rewrite.spec import graph_spec
from rewrite.streaming_build import TensorValues, materialize


def rewritten_preset(preset: str, dtype: torch.dtype, device: str | torch.device,
                     quantize: str | None = None) -> RewrittenGptOss:
    """The preset with `rewrite build`'s default passes (and `--quantize`'s), unverified. The transformers model is
    dropped after capture, so only the rewritten weights stay on the device. MXFP4 is built streaming (on meta,
    then one layer at a time on the device: `rewrite.streaming_build`), so gpt-oss-120b never exists in bf16."""
    if quantize == "mxfp4":
        rewritten = build_on_meta(preset, dtype=dtype, quantize=quantize)
        return materialize(rewritten, TensorValues(torch.device(device), dtype, preset_config(preset)))
    model = build_preset(preset, dtype=dtype, device=device)
    model.requires_grad_(False)
    graph_module = capture(model)
    del model
    run_pipeline(graph_module, resolve_pass_names("default") + quantize_pass_names(quantize))
    gc.collect()
    if torch.device(device).type == "cuda":
        torch.cuda.empty_cache()
    return RewrittenGptOss(graph_module, graph_spec(graph_module))
