"""Where a build starts: a built-in preset, or a local transformers checkpoint directory."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from transformers import GptOssForCausalLM

from .errors import CheckpointError, UnsupportedModelError
from .mxfp4 import MXFP4, load_mxfp4_checkpoint, quantization_method
from .presets import build_preset
from .tensor_files import transformers_tensors


def default_dtype(device: str | torch.device) -> torch.dtype:
    return torch.bfloat16 if torch.device(device).type == "cuda" else torch.float32


def parse_dtype(name: str | None, device) -> torch.dtype:
    if name is None:
        return default_dtype(device)
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise UnsupportedModelError(f"unknown dtype {name!r}; use float32, bfloat16 or float16")
    return dtype


def load_source(
    preset: str | None = None,
    checkpoint: str | Path | None = None,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
) -> tuple[GptOssForCausalLM, dict]:
    """The transformers model to capture, in eval mode with eager attention, and a description of it."""
    if (preset is None) == (checkpoint is None):
        raise UnsupportedModelError("give exactly one of a preset (--preset) or a checkpoint directory (--checkpoint)")
    dtype_name = str(dtype).removeprefix("torch.")
    if preset is not None:
        return build_preset(preset, dtype=dtype, device=device), {"preset": preset, "dtype": dtype_name}
    directory = Path(checkpoint)
    source = {"checkpoint": str(directory.resolve()), "dtype": dtype_name}
    if check_checkpoint_directory(directory) == MXFP4:
        return load_mxfp4_checkpoint(directory, dtype=dtype, device=device), {**source, "dequantized_from": MXFP4}
    model = GptOssForCausalLM.from_pretrained(
        directory, dtype=dtype, attn_implementation="eager", local_files_only=True, device_map=str(device)
    )
    return model.eval(), source


def check_checkpoint_directory(directory: Path) -> str | None:
    """A transformers gpt-oss checkpoint: a directory with a gpt_oss `config.json` and complete safetensors
    weights, unquantized or in a quantization we read. Returns that quantization method, None if unquantized."""
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise CheckpointError(
            f"{directory} is not a transformers checkpoint directory (no config.json); "
            "pass the directory that holds config.json and the safetensors weights"
        )
    try:
        config = json.loads(config_path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{config_path} is not valid JSON: {error}") from error
    model_type = config.get("model_type")
    if model_type != "gpt_oss":
        raise UnsupportedModelError(
            f"{directory} holds a {model_type!r} model; gpt-oss-rewrite only rewrites gpt_oss models"
        )
    with transformers_tensors(directory) as tensors:  # every weight file opens: none missing or truncated
        return quantization_method(directory, config, tensors.names())
