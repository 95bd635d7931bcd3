"""`check`: an emitted checkpoint against transformers' eager forward on the same weights.

For a quantized checkpoint "the same weights" are its dequantized weights, so the error left is the rewrite's own;
the quantization's error, against transformers on the original weights, is reported beside it when the source (a
preset, or a checkpoint directory still in place) can be loaded again.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import torch
from transformers import GptOssConfig, GptOssForCausalLM

from .load import load
from .model import RewrittenGptOss
from .pipeline import available_passes
from .source import load_source
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
    with _dequantized_weights(model) as weights:
        # transformers takes given weights only without a directory to read them from
        files = {"pretrained_model_name_or_path": directory} if weights is None else {
            "pretrained_model_name_or_path": None, "state_dict": weights,
            "config": GptOssConfig.from_pretrained(directory, local_files_only=True),
        }
        reference = GptOssForCausalLM.from_pretrained(
            **files, dtype=dtype, attn_implementation="eager", experts_implementation="eager",
            local_files_only=True, device_map=str(device),
        ).eval()
    batch = sample_batch(model.spec, device=device, decode_steps=decode_steps)
    statistic, default_tolerance = default_criterion(dtype)
    tolerance = tolerance if tolerance is not None else default_tolerance
    candidate = candidate_outputs(model, batch)
    comparison = compare(candidate, reference_outputs(reference, batch), tolerance, statistic)
    original = _original_model(model, device) if model.manifest.get("quantization") else None
    if original is not None:
        comparison.quantization_error = compare(candidate, reference_outputs(original, batch), tolerance,
                                                statistic).max_error
    return comparison


@contextmanager
def _dequantized_weights(model: RewrittenGptOss) -> Iterator[dict[str, torch.Tensor] | None]:
    """None for an unquantized checkpoint (transformers reads its files); else every transformers weight, those
    the quantizing passes replaced dequantized (their `exact_reference`)."""
    registry = available_passes()
    references = [registry[entry["pass_name"]].exact_reference for entry in model.manifest["passes"]]
    references = [reference for reference in references if reference is not None]
    if not references:
        yield None
        return
    quantized = tuple(f"{path}." for path in model.manifest["quantization"]["modules"])
    transformers_names = set(model.manifest["tensors"]["from_transformers"])
    with ExitStack() as stack:
        for reference in references:
            stack.enter_context(reference(model.graph_module))
        yield {name: tensor.detach() for name, tensor in model.graph_module.state_dict().items()
               if name in transformers_names or name.startswith(quantized)}


def _original_model(model: RewrittenGptOss, device) -> GptOssForCausalLM | None:
    """The unquantized model the checkpoint was built from, or None when its checkpoint directory is gone."""
    source = model.manifest["source"]
    checkpoint = source.get("checkpoint")
    if checkpoint is not None and not Path(checkpoint).is_dir():
        return None
    original, _ = load_source(preset=source.get("preset"), checkpoint=checkpoint, dtype=model.spec.torch_dtype,
                              device=device)
    return original
