"""The policy the trainer optimizes: a loaded rewritten checkpoint with peft LoRA adapters, and its special tokens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import PreTrainedConfig

from rewrite.load import load
from rewrite.model import RewrittenGptOss
from runtime.grpo.config import GRPOConfig
from runtime.grpo.errors import GRPOConfigError, GRPOModelError
from runtime.ops.nf4_experts_lora import register_with


def load_policy(model: str | Path | RewrittenGptOss, config: GRPOConfig) -> tuple[RewrittenGptOss, Path | None]:
    """The model to train and its checkpoint directory (None when a loaded model was given).

    A directory is loaded on CUDA when available (unless `config.use_cpu`); a loaded model stays where it is.
    `rewrite.load` raises `CheckpointError` for a directory that `rewrite build` did not write.
    """
    if isinstance(model, RewrittenGptOss):
        return model, None
    if not isinstance(model, (str, Path)):
        raise GRPOConfigError(
            f"cannot load {model!r} as the policy: pass a checkpoint directory or a loaded model; a preset without a "
            "checkpoint (UnbuiltPreset) needs fsdp (--fsdp under torchrun), else build it with `rewrite build`."
        )
    device = "cuda" if torch.cuda.is_available() and not config.use_cpu else "cpu"
    return load(model, device=device), Path(model)


def attach_lora(model: RewrittenGptOss, config: GRPOConfig) -> PeftModel:
    """Wrap `model.graph_module` in a peft model with LoRA on `config.lora_target_modules` and
    `config.lora_target_parameters` (in place); only the adapters are trainable. The adapters saved from it load
    with `PeftModel.from_pretrained` on the base transformers model, since modules and expert tensors keep
    transformers' names (4-bit experts too: `runtime.ops.nf4_experts_lora`)."""
    if isinstance(model.graph_module, PeftModel):
        raise GRPOModelError(
            "the model already carries peft adapters: pass the base model and set LoRA through GRPOConfig's "
            "lora_* fields (--lora-r, --lora-alpha, --lora-dropout, --lora-target-modules)."
        )
    lora_config = register_with(LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=list(config.lora_target_modules),
        target_parameters=list(config.lora_target_parameters) or None,
    ))
    was_training = model.training
    try:
        model.graph_module = get_peft_model(model.graph_module, lora_config)
    except ValueError as error:
        raise GRPOModelError(
            f"LoRA cannot attach to {', '.join([*config.lora_target_modules, *config.lora_target_parameters])} "
            f"({error}). Targets must be linear modules named as in transformers (q_proj, k_proj, v_proj, o_proj, "
            "router, lm_head) and expert tensors (mlp.experts.gate_up_proj, mlp.experts.down_proj): build the "
            "checkpoint with the default passes (they include linear_modules and moe_grouped), or change "
            "--lora-target-modules / --lora-target-parameters."
        ) from error
    model.train(was_training)  # get_peft_model leaves the wrapped module in training mode
    return model.graph_module


def special_token_ids(model_source: Path | PreTrainedConfig | None, processing_class: Any) -> tuple[list[int], int]:
    """(stop token ids, pad token id): from the tokenizer when given (pad falls back to EOS, as in TRL), else
    from the checkpoint directory's generation_config.json, then config.json, or from a (preset's) config."""
    if processing_class is not None:
        eos, pad = processing_class.eos_token_id, processing_class.pad_token_id
    elif isinstance(model_source, PreTrainedConfig):
        eos, pad = model_source.eos_token_id, model_source.pad_token_id
    elif model_source is not None:
        eos, pad = _config_value(model_source, "eos_token_id"), _config_value(model_source, "pad_token_id")
    else:
        raise GRPOModelError(
            "cannot tell the stop and pad tokens of a loaded model: pass processing_class=<tokenizer>, or pass the "
            "checkpoint directory instead of the loaded model."
        )
    if eos is None:
        raise GRPOModelError(
            "the model has no eos_token_id: set it in the checkpoint's generation_config.json or use a tokenizer "
            "that defines one."
        )
    stop_ids = [eos] if isinstance(eos, int) else list(eos)
    return stop_ids, stop_ids[0] if pad is None else pad


def _config_value(model_dir: Path, key: str) -> Any:
    for name in ("generation_config.json", "config.json"):
        path = model_dir / name
        if path.is_file():
            value = json.loads(path.read_text()).get(key)
            if value is not None:
                return value
    return None
