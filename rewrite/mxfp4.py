"""MXFP4 checkpoints: tell which quantization a checkpoint uses, and load the released gpt-oss layout.

The released gpt-oss checkpoints keep each layer's expert matrices in MXFP4: `experts.gate_up_proj_blocks`
and `experts.down_proj_blocks` hold two FP4 (e2m1) values per byte, `*_scales` one E8M0 exponent per block of
32 values, and `config.json` says `"quantization_config": {"quant_method": "mxfp4", ...}`. Every other
tensor is stored as it is.

`load_mxfp4_checkpoint` builds the model on the meta device and fills it one tensor at a time,
dequantizing with `runtime.ops.mxfp4_format.dequantize_mxfp4` (bit-exact with transformers'
`convert_moe_packed_tensors`) in the dtype of the parameter, as `from_pretrained` does when it dequantizes; the
result equals `from_pretrained`'s bit for bit. Experts are dequantized one at a time into the layer's parameter,
so memory beyond the finished weights peaks at one expert's matrices: never a layer's, never a second model.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import torch
from transformers import GptOssConfig, GptOssForCausalLM

from runtime.ops.mxfp4_format import dequantize_mxfp4

from .errors import CheckpointError, UnsupportedModelError
from .meta_model import fill_config_buffers, model_on_meta
from .tensor_files import TensorFiles, transformers_tensors

MXFP4 = "mxfp4"
READABLE_QUANTIZATION_METHODS = (MXFP4,)
BLOCKS_SUFFIX = "_blocks"
SCALES_SUFFIX = "_scales"


def quantization_method(directory: Path, config: dict, tensor_names: Iterable[str]) -> str | None:
    """The quantization of a checkpoint's weights: None when they are stored unquantized, or "mxfp4".

    Raises `UnsupportedModelError` for any other `quantization_config.quant_method`, and `CheckpointError`
    when tensors are MXFP4-packed but `config.json` does not say so.
    """
    quantization_config = config.get("quantization_config")
    if quantization_config is None:
        packed = sorted(name for name in tensor_names if name.endswith(BLOCKS_SUFFIX))
        if packed:
            raise CheckpointError(
                f"{directory} holds MXFP4-packed tensors ({packed[0]}, ...) but its config.json has no "
                'quantization_config; if they are MXFP4 as in the released gpt-oss checkpoints, add '
                '"quantization_config": {"quant_method": "mxfp4"} to config.json'
            )
        return None
    method = quantization_config.get("quant_method") if isinstance(quantization_config, dict) else None
    if method not in READABLE_QUANTIZATION_METHODS:
        raise UnsupportedModelError(
            f"{directory} is quantized with {method!r}, which gpt-oss-rewrite cannot read (it reads "
            f"{', '.join(READABLE_QUANTIZATION_METHODS)} and unquantized weights); use the released MXFP4 or a "
            "bfloat16 checkpoint, or dequantize this one with transformers and save_pretrained it"
        )
    return method


def load_mxfp4_checkpoint(
    directory: Path, dtype: torch.dtype, device: str | torch.device = "cpu"
) -> GptOssForCausalLM:
    """The checkpoint as a full-precision `GptOssForCausalLM` on `device`, in eval mode with eager attention.

    Expert weights are dequantized on `device`; the model's config no longer mentions quantization, so
    `save_pretrained` writes the full-precision model.
    """
    config = GptOssConfig.from_pretrained(directory, local_files_only=True)
    del config.quantization_config
    model = model_on_meta(config, dtype)
    fill_config_buffers(model, device)
    with transformers_tensors(directory, device) as tensors, torch.no_grad():
        unread = tensors.names()
        for name, empty in list(model.named_parameters()):
            value, consumed = _read_parameter(tensors, name, empty)
            unread -= consumed
            module_name, _, attribute = name.rpartition(".")
            setattr(model.get_submodule(module_name), attribute,
                    torch.nn.Parameter(value, requires_grad=empty.requires_grad))
    if unread:
        raise CheckpointError(
            f"{directory} has tensors a gpt-oss model does not: {', '.join(sorted(unread)[:5])}; "
            "its config.json does not match its weights: use the config.json the weights came with"
        )
    return model.eval()


def _read_parameter(
    tensors: TensorFiles, name: str, empty: torch.Tensor
) -> tuple[torch.Tensor, set[str]]:
    """The value of parameter `name` (shaped and typed like `empty`) and the checkpoint tensors it used."""
    blocks_name, scales_name = name + BLOCKS_SUFFIX, name + SCALES_SUFFIX
    if name in tensors:
        value, consumed = tensors.read(name).to(empty.dtype), {name}
    elif blocks_name in tensors and scales_name in tensors:
        value = dequantize_experts(tensors.read(blocks_name), tensors.read(scales_name), empty, name)
        consumed = {blocks_name, scales_name}
    else:
        raise CheckpointError(
            f"the checkpoint has no {name} (nor its MXFP4 {blocks_name} and {scales_name}); "
            "its weights are incomplete or belong to another model: copy or download it again"
        )
    if value.shape != empty.shape:
        raise CheckpointError(
            f"{name} has shape {list(value.shape)} in the checkpoint but {list(empty.shape)} in the model its "
            "config.json describes; use the config.json the weights came with"
        )
    return value, consumed


def dequantize_experts(blocks: torch.Tensor, scales: torch.Tensor, empty: torch.Tensor, name: str) -> torch.Tensor:
    """Experts' MXFP4 `blocks` [E, rows, groups, 16] and `scales` [E, rows, groups] as a tensor like `empty`.

    Each expert is dequantized on its own (`runtime.ops.mxfp4_format.dequantize_mxfp4`, bit-exact with
    transformers' `convert_moe_packed_tensors`), which bounds the transient full-precision memory to one expert.
    """
    if blocks.dim() != 4 or blocks.shape[:-1] != scales.shape or blocks.shape[0] != empty.shape[0]:
        raise CheckpointError(
            f"{name}{BLOCKS_SUFFIX} {list(blocks.shape)} and {name}{SCALES_SUFFIX} {list(scales.shape)} are not "
            f"MXFP4 blocks and scales of {empty.shape[0]} experts; copy or download the checkpoint again"
        )
    result = torch.empty(empty.shape, dtype=empty.dtype, device=blocks.device)
    for expert in range(blocks.shape[0]):
        result[expert] = _dequantize_expert(blocks, scales, expert, empty, name)
    return result


def _dequantize_expert(
    blocks: torch.Tensor, scales: torch.Tensor, expert: int, empty: torch.Tensor, name: str
) -> torch.Tensor:
    """One expert's matrix; returned rather than held, so it is freed before the next expert's is made."""
    matrix = dequantize_mxfp4(blocks[expert], scales[expert], empty.dtype)
    if matrix.shape != empty.shape[1:]:
        raise CheckpointError(
            f"{name} dequantizes to experts of shape {list(matrix.shape)} but the model its config.json "
            f"describes has {list(empty.shape[1:])}; use the config.json the weights came with"
        )
    return matrix
