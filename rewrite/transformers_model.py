"""transformers' `GptOssForCausalLM` on the weights of a build: what `rewrite check` compares against and what
`rewrite export --merged` merges an adapter into.

A build is a transformers checkpoint, so an unquantized one is read from its files. A quantized build leaves out of
those files the weights it quantized; the model then gets the build's dequantized weights (each quantizing pass's
`exact_reference`), the weights the build computes with.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import torch
from transformers import GptOssConfig, GptOssForCausalLM

from .load import load
from .manifest import read_manifest
from .model import RewrittenGptOss
from .pipeline import available_passes
from .spec import GraphSpec


def transformers_model(
    directory: str | os.PathLike,
    dtype: torch.dtype | None = None,
    device: str | torch.device = "cpu",
    model: RewrittenGptOss | None = None,
) -> GptOssForCausalLM:
    """The eval-mode transformers model (eager attention and experts) of the build at `directory`, in `dtype`
    (None: the build's). `model` is that build loaded, if at hand; a quantized build is loaded when it is not, an
    unquantized one is only read by transformers. Raises `CheckpointError` for a directory `rewrite build` did not
    write."""
    directory = Path(directory)
    manifest = model.manifest if model is not None else read_manifest(directory)
    dtype = dtype if dtype is not None else GraphSpec.from_json(manifest["spec"]).torch_dtype
    if not manifest.get("quantization"):
        return _from_pretrained(directory, dtype, device)
    model = model if model is not None else load(directory, device=device)
    with dequantized_weights(model) as weights:
        # transformers takes given weights only without a directory to read them from
        config = GptOssConfig.from_pretrained(directory, local_files_only=True)
        config.quantization_config = None  # an MXFP4 build says so; these weights are dequantized
        return _from_pretrained(None, dtype, device, state_dict=weights, config=config)


def _from_pretrained(directory: Path | None, dtype: torch.dtype, device, **weights) -> GptOssForCausalLM:
    return GptOssForCausalLM.from_pretrained(
        directory, **weights, dtype=dtype, attn_implementation="eager", experts_implementation="eager",
        local_files_only=True, device_map=str(device),
    ).eval()


@contextmanager
def dequantized_weights(model: RewrittenGptOss) -> Iterator[dict[str, torch.Tensor] | None]:
    """None for an unquantized build (transformers reads its files); else every transformers weight, those the
    quantizing passes replaced dequantized (their `exact_reference`), valid inside the context."""
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
