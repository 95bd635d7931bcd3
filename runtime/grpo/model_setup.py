"""The policy the trainer optimizes: a loaded rewritten checkpoint with peft LoRA adapters, and its special tokens."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.utils.constants import INCLUDE_LINEAR_LAYERS_SHORTHAND
from transformers import GptOssForCausalLM

from rewrite.capture import capture
from rewrite.load import load
from rewrite.manifest import MANIFEST_NAME
from rewrite.model import RewrittenGptOss
from rewrite.module_roles import ModuleRoles
from rewrite.pipeline import resolve_pass_names, run_pipeline
from rewrite.source import default_dtype, load_source
from rewrite.spec import graph_spec
from runtime.grpo.config import GRPOConfig
from runtime.grpo.errors import GRPOModelError
from runtime.ops.nf4_experts_lora import register_with

logger = logging.getLogger(__name__)

TRANSFORMERS_LINEAR_LAYERS = ("q_proj", "k_proj", "v_proj", "o_proj")
"""The nn.Linear layers of transformers' GptOssForCausalLM other than lm_head: what peft's "all-linear" adapts."""


def load_policy(
    model: str | Path | RewrittenGptOss | GptOssForCausalLM, config: GRPOConfig
) -> tuple[RewrittenGptOss, Path | Any]:
    """The model to train and where its special tokens and tokenizer come from: its directory (for a
    `GptOssForCausalLM`, the one it was loaded from, else its generation config), or None for a RewrittenGptOss.

    `model` is a checkpoint written by `rewrite build` (loaded), a transformers gpt-oss checkpoint directory or a
    `GptOssForCausalLM` (rewritten in memory with the default passes, said in one log line), or a loaded
    `RewrittenGptOss` (trained in place). A directory is loaded on CUDA when available (unless `config.use_cpu`);
    a model object stays where it is. Raises `GRPOModelError` for anything else.
    """
    if isinstance(model, RewrittenGptOss):
        return model, None
    if isinstance(model, GptOssForCausalLM):
        directory = Path(model.name_or_path) if model.name_or_path else None
        source = directory if directory is not None and directory.is_dir() else None
        rewritten = _rewritten_in_memory(model, {"transformers_model": str(source or type(model).__name__)})
        return rewritten, source or model.generation_config
    if not isinstance(model, (str, Path)):
        raise GRPOModelError(
            f"cannot train {type(model).__name__} {model!r}: pass a checkpoint directory (`rewrite build`'s or a "
            "transformers gpt-oss one), a GptOssForCausalLM or a RewrittenGptOss; a preset without a checkpoint "
            "(UnbuiltPreset) needs fsdp (--fsdp under torchrun), else build it with `rewrite build`."
        )
    directory = Path(model)
    device = "cuda" if torch.cuda.is_available() and not config.use_cpu else "cpu"
    if (directory / MANIFEST_NAME).is_file() or not (directory / "config.json").is_file():
        return load(directory, device=device), directory  # CheckpointError says what a directory lacks
    dtype = getattr(torch, config.requested_dtype) if config.requested_dtype else default_dtype(device)
    source_model, source = load_source(checkpoint=directory, dtype=dtype, device=device)
    return _rewritten_in_memory(source_model, source), directory


def _rewritten_in_memory(model: GptOssForCausalLM, source: dict) -> RewrittenGptOss:
    """`model` captured and rewritten with the default passes, unverified, without writing a checkpoint."""
    passes = resolve_pass_names("default")
    logger.warning("rewriting %s in memory with the default passes (%s); `rewrite build` writes it once instead",
                   source.get("checkpoint", type(model).__name__), ", ".join(passes))
    model.requires_grad_(False)
    graph_module = capture(model.eval())
    reports = run_pipeline(graph_module, passes)
    manifest = {
        "source": source,
        "graph_hash": hashlib.sha256(graph_module.code.encode()).hexdigest(),
        "passes": [report.pass_name for report in reports],
        "roles": ModuleRoles.of_graph(graph_module, graph_spec(graph_module).num_layers).to_json(),
    }
    return RewrittenGptOss(graph_module, graph_spec(graph_module), manifest)


def attach_lora(model: RewrittenGptOss, config: GRPOConfig, lora_config: LoraConfig | None = None) -> PeftModel:
    """Wrap `model.graph_module` in a peft model with LoRA (in place): `lora_config` (a user's peft_config), or
    one built from `config.lora_*`; only the adapters are trainable. The adapters saved from it load
    with `PeftModel.from_pretrained` on the base transformers model, since modules and expert tensors keep
    transformers' names (4-bit experts too: `runtime.ops.nf4_experts_lora`)."""
    if isinstance(model.graph_module, PeftModel):
        raise GRPOModelError(
            "the model already carries peft adapters: pass the base model and set LoRA through GRPOConfig's "
            "lora_* fields (--lora-r, --lora-alpha, --lora-dropout, --lora-target-modules)."
        )
    if lora_config is not None:
        lora_config = _for_rewritten_module(lora_config)
    lora_config = register_with(lora_config if lora_config is not None else LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.effective_lora_dropout,
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


def _for_rewritten_module(lora_config: LoraConfig) -> LoraConfig:
    """A user's LoraConfig as it applies to the rewritten module. peft's task models (PeftModelForCausalLM, ...)
    wrap a transformers model's generation API, which the module does not have: the adapters are the same without
    the task wrapper. peft resolves "all-linear" from a transformers model's nn.Linear layers less its output
    layer; on gpt-oss those are the attention projections (its router and experts are not nn.Linear), which the
    rewritten module would not tell apart from its router and lm_head, so they are named here."""
    targets = lora_config.target_modules
    if isinstance(targets, str) and targets.lower() == INCLUDE_LINEAR_LAYERS_SHORTHAND:
        targets = list(TRANSFORMERS_LINEAR_LAYERS)
    return dataclasses.replace(lora_config, task_type=None, target_modules=targets)


def special_token_ids(model_source: Path | Any, processing_class: Any) -> tuple[list[int], int]:
    """(stop token ids, pad token id), as TRL: the tokenizer's EOS followed by the model's generation-config stop
    tokens, and the tokenizer's pad (falling back to EOS); without a tokenizer, the model's own, from the checkpoint
    directory's generation_config.json, then config.json, or from a (preset's or generation) config object."""
    if model_source is not None and not isinstance(model_source, Path):  # a (generation) config
        model_eos, model_pad = model_source.eos_token_id, model_source.pad_token_id
    elif model_source is not None:
        model_eos, model_pad = _config_value(model_source, "eos_token_id"), _config_value(model_source, "pad_token_id")
    elif processing_class is None:
        raise GRPOModelError(
            "cannot tell the stop and pad tokens of a loaded model: pass processing_class=<tokenizer>, or pass the "
            "checkpoint directory instead of the loaded model."
        )
    else:
        model_eos, model_pad = None, None
    model_stops = [] if model_eos is None else [model_eos] if isinstance(model_eos, int) else list(model_eos)
    if processing_class is not None and processing_class.eos_token_id is not None:
        eos = processing_class.eos_token_id
        stop_ids = [eos, *(token for token in model_stops if token != eos)]
        pad = processing_class.pad_token_id
    else:
        stop_ids, pad = model_stops, model_pad
    if not stop_ids:
        raise GRPOModelError(
            "the model has no eos_token_id: set it in the checkpoint's generation_config.json or use a tokenizer "
            "that defines one."
        )
    return stop_ids, stop_ids[0] if pad is None else pad


def _config_value(model_dir: Path, key: str) -> Any:
    for name in ("generation_config.json", "config.json"):
        path = model_dir / name
        if path.is_file():
            value = json.loads(path.read_text()).get(key)
            if value is not None:
                return value
    return None
