"""TRL's `GRPOConfig` fields that are not ours: which we refuse (and what to do instead), which have no effect here.

TRL 1.16's `GRPOConfig` has some 190 fields (its own and transformers' `TrainingArguments`'). Those that are
`GRPOConfig` fields of ours have TRL's meaning. Of the others:

- REFUSED: a feature we do not have. Its TRL default (the value that asks for nothing) is accepted silently;
  any other value is refused by name, with the reason and what to use instead.
- IGNORED: a setting that changes nothing for our trainer (no data loader, no Hub, no DeepSpeed, options that
  only apply with a refused feature on). Accepted with any value; a value other than TRL's default is named in
  one warning, so that nobody relies on it unknowingly.

Each table maps a name to (TRL's default, reason). A name in no table and not a field is refused as unknown,
with the closest field names (difflib) suggested.
"""

from __future__ import annotations

import copy
import difflib
import warnings
from collections.abc import Collection
from typing import Any

from runtime.grpo.errors import GRPOConfigError

_VLLM = "our generation engine replaces vLLM (static KV cache, compiled decode step with CUDA graphs); leave it out"
_VLLM_ONLY = "it applies only with use_vllm, and our engine replaces vLLM"
_NO_HUB = "nothing is uploaded to the Hugging Face Hub; upload output_dir yourself"
_NO_LOADER = "prompts are held in memory and drawn by seeded index; there is no data loader"
_NO_DDP = "processes share each step through torch.distributed collectives of our own, not DDP"
_NO_EVAL_LOSS = "GRPO evaluation logs the eval prompts' mean rewards; there are no eval losses or metrics to compute"
_OFF_LOSS = "not implemented by our loss (runtime.grpo.loss); leave it out"
_OWN_BATCHING = "our generation engine does the batching; leave it out"
_OWN_COMPILE = "the engine compiles the decode step itself"

REFUSED: dict[str, tuple[Any, str]] = {
    "use_vllm": (False, _VLLM),
    "use_transformers_continuous_batching": (False, _OWN_BATCHING),
    "use_transformers_paged": (False, _OWN_BATCHING),
    "cache_implementation": (None, "our engine keeps its own static KV cache; leave it out"),
    "deepspeed": (None, "under torchrun, fsdp=True (--fsdp) shards the frozen base model instead"),
    "fsdp_config": (None, "FSDP has no options here: fsdp=True (--fsdp) shards the frozen base model with FSDP2"),
    "accelerator_config": (None, "accelerate is not used: torchrun and torch.distributed run the processes"),
    "parallelism_config": (None, "only data parallelism (torchrun) and fsdp=True are supported"),
    "use_liger_kernel": (False, "the rewritten module has its own kernels (grouped experts, chunked log-probs); "
                                "leave it out"),
    "torch_compile": (False, _OWN_COMPILE + "; the training forward runs eagerly"),
    "torch_compile_backend": (None, _OWN_COMPILE + " with inductor"),
    "torch_compile_mode": (None, _OWN_COMPILE + " (CUDA graphs on CUDA)"),
    "activation_checkpointing": (None, "use gradient_checkpointing (TRL's name, default True)"),
    "auto_find_batch_size": (False, "a smaller batch would split prompt groups; lower per_device_train_batch_size"),
    "router_aux_loss_coef": (None, "the router is not trained with an auxiliary loss; leave it out"),
    "cast_lm_head_to_fp32": (False, "the lm_head computes in the checkpoint's dtype; build in float32 "
                                    "(rewrite build --dtype float32) for a float32 head"),
    "shuffle_dataset": (True, "prompts are always drawn in a seeded random order (set seed)"),
    "data_seed": (None, "the prompt order follows seed"),
    "delta": (None, "two-sided clipping (INTELLECT-2) is " + _OFF_LOSS),
    "multi_objective_aggregation": ("sum_then_normalize", "only sum_then_normalize (TRL's default) is implemented"),
    "sync_ref_model": (False, "the reference is the base model without adapters; it is never synchronised"),
    "top_entropy_quantile": (1.0, "the entropy mask is " + _OFF_LOSS),
    "entropy_coef": (0.0, "the entropy bonus is " + _OFF_LOSS),
    "use_adaptive_entropy": (False, "adaptive entropy control is " + _OFF_LOSS),
    "off_policy_mask_threshold": (None, "off-policy sequence masking is " + _OFF_LOSS),
    "max_tool_calling_iterations": (None, "tool calling during generation is not implemented; leave it out"),
    "log_completions_hub_repo": (None, _NO_HUB),
    "push_to_hub": (False, _NO_HUB),
    "load_best_model_at_end": (False, "GRPO has no evaluation loss to pick the best checkpoint by"),
    "eval_on_start": (False, "evaluation runs every eval_steps steps only"),
    "eval_delay": (0, "evaluation runs every eval_steps steps from the first"),
    "logging_strategy": ("steps", "log.jsonl gets every step and logging_steps sets how often it is printed"),
    "neftune_noise_alpha": (None, "NEFTune embedding noise is not implemented; leave it out"),
    "optim_args": (None, "the optimizers take adam_beta1, adam_beta2, adam_epsilon and weight_decay only"),
    "optim_target_modules": (None, "the optimizer trains the LoRA adapters; set lora_target_modules"),
    "overwrite_output_dir": (False, "pass trainer.train(overwrite_output_dir=True) (rewrite train --force)"),
    "evaluation_strategy": ("no", "use eval_strategy (its name since transformers 4.46)"),
}

IGNORED: dict[str, tuple[Any, str]] = {
    **{name: (default, _VLLM_ONLY) for name, default in {
        "vllm_mode": "colocate", "vllm_model_impl": "vllm", "vllm_enable_sleep_mode": False,
        "vllm_structured_outputs_regex": None, "vllm_server_base_url": None, "vllm_server_host": "0.0.0.0",
        "vllm_server_port": 8000, "vllm_server_timeout": 240.0, "vllm_group_port": 51216,
        "vllm_gpu_memory_utilization": 0.3, "vllm_max_model_length": None, "vllm_tensor_parallel_size": 1,
        "vllm_importance_sampling_correction": True, "vllm_importance_sampling_mode": "sequence_mask",
        "vllm_importance_sampling_clip_max": 3.0, "vllm_importance_sampling_clip_min": None,
        "vllm_importance_sampling_cap": None,
    }.items()},
    **{name: (default, _NO_HUB) for name, default in {
        "hub_token": None, "hub_private_repo": None, "hub_model_id": None, "hub_strategy": "every_save",
        "hub_always_push": False, "hub_revision": None,
    }.items()},
    **{name: (default, _NO_LOADER) for name, default in {
        "dataloader_drop_last": False, "dataloader_num_workers": 0, "dataloader_pin_memory": True,
        "dataloader_persistent_workers": False, "dataloader_prefetch_factor": None,
        "dataloader_multiprocessing_context": None, "dataloader_in_order": True, "train_sampling_strategy": "random",
        "length_column_name": "length", "ignore_data_skip": False,
    }.items()},
    **{name: (default, _NO_DDP) for name, default in {
        "ddp_find_unused_parameters": None, "ddp_bucket_cap_mb": None, "ddp_broadcast_buffers": None,
        "ddp_static_graph": None, "ddp_backend": None, "ddp_timeout": 1800, "local_rank": -1,
        "average_tokens_across_devices": True,
    }.items()},
    **{name: (default, _NO_EVAL_LOSS) for name, default in {
        "prediction_loss_only": False, "eval_do_concat_batches": True, "eval_use_gather_object": False,
        "eval_accumulation_steps": None, "include_for_metrics": [], "batch_eval_metrics": False,
        "metric_for_best_model": None, "greater_is_better": None, "label_names": None, "bf16_full_eval": False,
        "fp16_full_eval": False, "label_smoothing_factor": 0.0,
    }.items()},
    **{name: (default, "it applies only to a loss type or option that is refused") for name, default in {
        "sapo_temperature_neg": 1.05, "sapo_temperature_pos": 1.0, "vespo_k_pos": 2.0, "vespo_lambda_pos": 3.0,
        "vespo_k_neg": 3.0, "vespo_lambda_neg": 2.0, "ref_model_mixup_alpha": 0.6, "ref_model_sync_steps": 512,
        "entropy_coef_min": 0.0, "entropy_coef_max": 1.0, "entropy_coef_delta": 0.005, "entropy_target": 0.2,
        "transformers_continuous_batching_config": None, "liger_kernel_config": None, "ds3_gather_for_generation": True,
    }.items()},
    **{name: (default, "the trainer's console output is a progress bar and log.jsonl") for name, default in {
        "logging_first_step": False, "log_on_each_node": True, "logging_nan_inf_filter": True,
        "include_num_input_tokens_seen": "no", "log_level": "passive", "log_level_replica": "warning",
        "disable_tqdm": None, "skip_memory_metrics": True, "debug": "", "log_multimodal": True,
        "log_unique_prompts": False, "project": "huggingface", "trackio_space_id": None, "trackio_bucket_id": None,
        "trackio_static_space_id": None,
    }.items()},
    "remove_unused_columns": (False, "every dataset column is passed to the reward functions, as TRL's False"),
    "pad_to_multiple_of": ("auto", "the engine pads prompts to its own length buckets"),
    "trust_remote_code": (False, "checkpoints are loaded without remote code"),
    "use_cache": (False, "the engine always generates with its KV cache; training forwards use none"),
    **{name: (None, "gradient_checkpointing always runs torch.utils.checkpoint with use_reentrant=False")
       for name in ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs")},
    "tf32": (None, "float32 matmuls stay exact; bfloat16 builds do not use TF32"),
    "torch_empty_cache_steps": (None, "torch's CUDA cache is not emptied; the engine reuses one set of KV caches"),
    "save_only_model": (False, "checkpoints always hold the optimizer state, so that a run can resume"),
    "save_on_each_node": (False, "rank 0 writes every checkpoint"),
    "save_safetensors": (True, "adapters are always saved as safetensors"),
    "enable_jit_checkpoint": (False, "Ctrl-C already saves a checkpoint"),
    "restore_callback_states_from_checkpoint": (False, "callbacks keep no state in checkpoints"),
    "full_determinism": (False, "sampling is keyed by (seed, step, prompt, generation) already"),
    "do_train": (False, "trainer.train() trains"),
    "do_eval": (False, "eval_strategy decides when to evaluate"),
    "do_predict": (False, "GRPO has no prediction step"),
}


def accepted_arguments(given: dict[str, Any], field_names: Collection[str]) -> dict[str, Any]:
    """The entries of `given` that are `field_names`; the others checked against TRL's fields.

    Raises `GRPOConfigError` naming every refused or unknown argument at once; warns once (UserWarning) about the
    ignored ones given a value other than TRL's default.
    """
    problems, ignored = [], []
    for name, value in given.items():
        if name in field_names:
            continue
        if name in REFUSED:
            harmless, reason = REFUSED[name]
            if value != harmless:
                problems.append(f"{name}={value!r} is not supported: {reason}.")
        elif name in IGNORED:
            default, reason = IGNORED[name]
            if value != default:
                ignored.append(f"{name}={value!r} ({reason})")
        else:
            problems.append(_unknown(name, field_names))
    if problems:
        raise GRPOConfigError("Invalid GRPOConfig:\n" + "\n".join(f"  - {problem}" for problem in problems))
    if ignored:
        warnings.warn("GRPOConfig ignores " + "; ".join(ignored) + ".", UserWarning, stacklevel=3)
    return {name: value for name, value in given.items() if name in field_names}


def trl_field_value(name: str, given: dict[str, Any]) -> Any:
    """What `config.<name>` reads for a TRL field that is not ours (REFUSED or IGNORED): the value the config was
    given, else TRL's default, so that a TRL script's `if training_args.push_to_hub:` reads as it does in TRL.
    Raises AttributeError for any other name."""
    if name in given:
        return given[name]
    for table in (REFUSED, IGNORED):
        if name in table:
            return copy.copy(table[name][0])
    raise AttributeError(f"'GRPOConfig' object has no attribute {name!r}")


def _unknown(name: str, field_names: Collection[str]) -> str:
    close = difflib.get_close_matches(name, [*field_names, *REFUSED, *IGNORED], n=1)
    if close:
        return f"unknown GRPOConfig field {name!r}; did you mean {close[0]!r}?"
    return f"unknown GRPOConfig field {name!r}; the fields are listed by `rewrite train --help`."
