"""A GRPO run small enough that a step takes a fraction of a second on two cores, and a toy dataset for it."""

from __future__ import annotations

from runtime.grpo import GRPOConfig
from runtime.grpo.tasks import even_token_reward, get_task

__all__ = ["TARGET_TOKEN", "TINY_RUN", "even_token_reward", "tiny_config", "toy_dataset"]

TARGET_TOKEN = get_task("target-token")

# 2 prompts x 4 completions of at most 6 tokens per step; lr high enough that one step moves the adapters.
TINY_RUN = dict(
    per_device_train_batch_size=8,
    num_generations=4,
    max_completion_length=6,
    learning_rate=1e-2,
    lora_r=4,
    lora_alpha=8,
    lora_dropout=0.0,
    gradient_checkpointing=False,
    logging_steps=1,
    report_to="tensorboard",
    seed=0,
)


def tiny_config(output_dir, **overrides) -> GRPOConfig:
    return GRPOConfig(**{**TINY_RUN, "output_dir": str(output_dir), **overrides})


def toy_dataset(seed: int = 0) -> list[dict]:
    return TARGET_TOKEN.build_dataset(512, seed)
