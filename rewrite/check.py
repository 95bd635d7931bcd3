"""`check`: an emitted checkpoint against transformers' eager forward on the same weights.

For a quantized checkpoint "the same weights" are its dequantized weights, so the error left is the rewrite's own;
the quantization's error, against transformers on the original weights, is reported beside it when the source (a
preset, or a checkpoint directory still in place) can be loaded again.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from transformers import GptOssForCausalLM

from .load import load
from .model import RewrittenGptOss
from .source import load_source
from .transformers_model import transformers_model
from .verify import Comparison, candidate_outputs, compare, default_criterion, reference_outputs, sample_batch


def check_checkpoint(
    directory: str | os.PathLike,
    device: str | torch.device = "cpu",
    tolerance: float | None = None,
    decode_steps: int = 3,
) -> Comparison:
    """Error of logits and every layer's hidden state, prefill and decode, on a left-padded batch
    (`verify.default_criterion`: the scaled max in float32, the scaled mean in bf16/fp16)."""
    model = load(directory, device=device)
    reference = transformers_model(directory, device=device, model=model)
    batch = sample_batch(model.spec, device=device, decode_steps=decode_steps)
    statistic, default_tolerance = default_criterion(model.spec.torch_dtype)
    tolerance = tolerance if tolerance is not None else default_tolerance
    candidate = candidate_outputs(model, batch)
    comparison = compare(candidate, reference_outputs(reference, batch), tolerance, statistic)
    original = _original_model(model, device) if model.manifest.get("quantization") else None
    if original is not None:
        comparison.quantization_error = compare(candidate, reference_outputs(original, batch), tolerance,
                                                statistic).max_error
    return comparison


def _original_model(model: RewrittenGptOss, device) -> GptOssForCausalLM | None:
    """The unquantized model the checkpoint was built from, or None when its checkpoint directory is gone or its
    weights were drawn while streaming (`rewrite.streaming_build`: a preset's original weights never existed)."""
    source = model.manifest["source"]
    if "weights" in source:
        return None
    checkpoint = source.get("checkpoint")
    if checkpoint is not None and not Path(checkpoint).is_dir():
        return None
    original, _ = load_source(preset=source.get("preset"), checkpoint=checkpoint, dtype=model.spec.torch_dtype,
                              device=device)
    return original
