"""`check`: an emitted checkpoint against transformers' eager forward on the same weights."""

from __future__ import annotations

import os

import torch
from transformers import GptOssForCausalLM

from .load import load
from .verify import DEFAULT_TOLERANCE, Comparison, candidate_outputs, compare, reference_outputs, sample_batch


def check_checkpoint(
    directory: str | os.PathLike,
    device: str | torch.device = "cpu",
    tolerance: float | None = None,
    decode_steps: int = 3,
) -> Comparison:
    """Max error of logits and every layer's hidden state, prefill and decode, on a left-padded batch."""
    model = load(directory, device=device)
    dtype = model.spec.torch_dtype
    reference = GptOssForCausalLM.from_pretrained(
        directory, dtype=dtype, attn_implementation="eager", local_files_only=True, device_map=str(device)
    ).eval()
    batch = sample_batch(model.spec, device=device, decode_steps=decode_steps)
    tolerance = tolerance if tolerance is not None else DEFAULT_TOLERANCE[dtype]
    return compare(candidate_outputs(model, batch), reference_outputs(reference, batch), tolerance)
