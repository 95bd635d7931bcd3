"""`check`: an emitted checkpoint against transformers' eager forward on the same weights."""

from __future__ import annotations

import os

import torch
from transformers import GptOssForCausalLM

from .load import load
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
    dtype = model.spec.torch_dtype
    reference = GptOssForCausalLM.from_pretrained(
        directory, dtype=dtype, attn_implementation="eager", experts_implementation="eager", local_files_only=True,
        device_map=str(device),
    ).eval()
    batch = sample_batch(model.spec, device=device, decode_steps=decode_steps)
    statistic, default_tolerance = default_criterion(dtype)
    tolerance = tolerance if tolerance is not None else default_tolerance
    return compare(candidate_outputs(model, batch), reference_outputs(reference, batch), tolerance, statistic)
