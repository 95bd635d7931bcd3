"""Models on the meta device: built from a config, their buffers computed from it, their tensors replaced later.

A gpt-oss model's only buffers are its rotary embedding's frequencies, which the module's constructor computes from
the config. Each module that owns buffers is built again from the config on the requested device, and its buffers
are taken from that copy, so a meta-built model (a streaming load, a meta build) gets the same values as one
built normally.
"""

from __future__ import annotations

import torch
from transformers import GptOssConfig, GptOssForCausalLM

from .errors import UnsupportedModelError


def model_on_meta(config: GptOssConfig, dtype: torch.dtype) -> GptOssForCausalLM:
    """transformers' model of `config` on the meta device (eager attention), in eval mode; nothing allocated."""
    with torch.device("meta"):
        return GptOssForCausalLM._from_config(config, dtype=dtype, attn_implementation="eager").eval()


def config_buffers(model: torch.nn.Module, device: str | torch.device = "cpu") -> dict[str, torch.Tensor]:
    """Every buffer of `model` by name, computed on `device` from `model.config`."""
    buffers = {}
    for module_name, module in model.named_modules():
        own = dict(module.named_buffers(recurse=False))
        if not own:
            continue
        try:
            with torch.device(device):
                rebuilt = type(module)(model.config)
        except TypeError as error:
            raise UnsupportedModelError(
                f"cannot compute the buffers of {module_name} ({type(module).__name__}) without weights: its "
                f"constructor does not take the model config alone ({error}); build it with `rewrite build`"
            ) from error
        buffers.update({_joined(module_name, name): getattr(rebuilt, name) for name in own})
    return buffers


def fill_config_buffers(model: torch.nn.Module, device: str | torch.device = "cpu") -> None:
    """Replace every buffer of `model` (in place) by its value computed from the config on `device`."""
    for name, value in config_buffers(model, device).items():
        replace_tensor(model, name, value)


def replace_tensor(module: torch.nn.Module, name: str, value: torch.Tensor) -> None:
    """Put `value` in place of the parameter or buffer `name` of `module`; a parameter stays one, trainable only
    if it was and `value` is floating."""
    owner_path, _, attribute = name.rpartition(".")
    owner = module.get_submodule(owner_path)
    if attribute in owner._parameters:
        trainable = owner._parameters[attribute].requires_grad and value.is_floating_point()
        owner._parameters[attribute] = torch.nn.Parameter(value, requires_grad=trainable)
    else:
        owner._buffers[attribute] = value


def _joined(module_name: str, name: str) -> str:
    return f"{module_name}.{name}" if module_name else name
