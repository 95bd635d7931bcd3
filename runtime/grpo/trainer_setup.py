"""What `GRPOTrainer.__init__` checks and derives from its arguments before anything is loaded.

TRL's argument order is `GRPOTrainer(model, reward_funcs, args, train_dataset, ...)`; a script that passes a
dataset where the config goes, a reward model, or a peft config of another kind is told what to pass instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from peft import LoraConfig

from runtime.grpo.advantages import aggregate_rewards
from runtime.grpo.config import GRPOConfig
from runtime.grpo.errors import GRPOConfigError, GRPODatasetError, GRPOInputError
from runtime.grpo.prompts import rounds_per_epoch
from runtime.grpo.reward_loading import load_reward_function
from runtime.grpo.scoring import RewardFunction


def checked_args(args: Any) -> GRPOConfig:
    """`args` as the run's config; None gives `GRPOConfig()`."""
    if args is None:
        return GRPOConfig()
    if not isinstance(args, GRPOConfig):
        hint = ""
        if hasattr(args, "__len__") and hasattr(args, "__getitem__"):
            hint = (" It looks like a dataset: GRPOTrainer takes (model, reward_funcs, args, train_dataset, ...) "
                    "in TRL's order, so pass train_dataset=... by keyword or the config third.")
        raise GRPOConfigError(f"args must be a runtime.grpo.GRPOConfig, not {type(args).__name__}.{hint}")
    return args


def checked_train_dataset(train_dataset: Any) -> Any:
    if train_dataset is None:
        raise GRPODatasetError("train_dataset is required: pass a datasets.Dataset or a list of dicts with a "
                               "'prompt' column (token ids, text, or chat messages).")
    return train_dataset


def resolved_reward_funcs(
    reward_funcs: RewardFunction | str | Sequence[RewardFunction | str],
    reward_weights: list[float] | None,
    reward_processing_classes: Any,
) -> list[RewardFunction]:
    """The reward functions as callables ("module:function" strings imported), checked against the weights.

    `reward_processing_classes` serve reward models in TRL and are ignored for reward functions (all of ours);
    as in TRL, a list of them must still have one entry per reward function."""
    funcs = [reward_funcs] if callable(reward_funcs) or isinstance(reward_funcs, str) else list(reward_funcs or [])
    if not funcs:
        raise GRPOInputError("reward_funcs must be a callable, a 'module:function' string or a non-empty list.")
    resolved = [load_reward_function(func) for func in funcs]
    for func in resolved:
        if isinstance(func, torch.nn.Module):
            raise GRPOInputError(
                f"reward model {type(func).__name__} as a reward function is not supported: wrap it in a function "
                "(prompts, completions, **kwargs) -> list[float] that scores the completions with it."
            )
    if reward_processing_classes is not None and len(_as_list(reward_processing_classes)) != len(resolved):
        raise GRPOInputError(
            f"The number of reward processing classes ({len(_as_list(reward_processing_classes))}) must match the "
            f"number of reward functions ({len(resolved)}); they are ignored for reward functions, as in TRL."
        )
    aggregate_rewards(torch.zeros(1, len(resolved)), reward_weights)  # raises when the weights do not fit
    return resolved


def lora_config_for(args: GRPOConfig, peft_config: Any) -> tuple[GRPOConfig, LoraConfig | None]:
    """The config with its lora_* fields taken from `peft_config` (so the run's identity and checkpoints record
    them), and the peft config to attach (None: build it from the lora_* fields)."""
    if peft_config is None:
        return args, None
    if not isinstance(peft_config, LoraConfig):
        raise GRPOConfigError(f"peft_config must be a peft LoraConfig, not {type(peft_config).__name__}: the "
                              "trainer trains LoRA adapters.")
    targets = peft_config.target_modules
    targets = [targets] if isinstance(targets, str) else sorted(targets or [])
    args = args.replaced(
        lora_r=peft_config.r, lora_alpha=peft_config.lora_alpha, lora_dropout=peft_config.lora_dropout,
        lora_target_modules=targets or args.lora_target_modules,
        lora_target_parameters=sorted(_as_list(peft_config.target_parameters or [])),
    )
    return args, peft_config


def steps_per_round(args: GRPOConfig, steps_per_generation: int) -> int:
    """Optimizer steps trained on one generation batch: steps_per_generation / gradient_accumulation_steps
    windows, each `num_iterations` times (TRL's generate_every, counted in optimizer steps)."""
    if steps_per_generation % args.gradient_accumulation_steps != 0:
        raise GRPOConfigError(
            f"steps_per_generation={steps_per_generation} must be a multiple of gradient_accumulation_steps="
            f"{args.gradient_accumulation_steps} (--steps-per-generation, --generation-batch-size), so that every "
            "optimizer step trains on whole accumulation windows of one generation batch."
        )
    return steps_per_generation // args.gradient_accumulation_steps * args.num_iterations


def total_steps(args: GRPOConfig, num_prompts: int, prompts_per_round: int, steps_per_round: int) -> int:
    """max_steps, or num_train_epochs over the dataset, each generation round giving `steps_per_round` steps."""
    if args.max_steps > 0:
        return args.max_steps
    steps_per_epoch = rounds_per_epoch(num_prompts, prompts_per_round) * steps_per_round
    return max(1, math.ceil(args.num_train_epochs * steps_per_epoch))


def _as_list(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple, set)) else [value]

