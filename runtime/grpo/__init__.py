"""GRPO training: TRL's config names, loss formulas and trainer steps, as plain code."""

from rewrite.lazy_exports import make_lazy
from runtime.grpo.errors import (
    GRPOConfigError,
    GRPODatasetError,
    GRPOError,
    GRPOInputError,
    GRPOModelError,
    GRPOOutputDirError,
    GRPOTaskError,
)

# Imported on first use, so that the `rewrite` command can read the config's fields without torch.
make_lazy(__name__, {
    "aggregate_rewards": "runtime.grpo.advantages",
    "compute_advantages": "runtime.grpo.advantages",
    "GRPOConfig": "runtime.grpo.config",
    "add_config_arguments": "runtime.grpo.config_arguments",
    "config_from_args": "runtime.grpo.config_arguments",
    "compute_loss": "runtime.grpo.loss",
    "UnbuiltPreset": "runtime.grpo.sharding",
    "TASKS": "runtime.grpo.tasks",
    "Task": "runtime.grpo.tasks",
    "get_task": "runtime.grpo.tasks",
    "GRPOTrainer": "runtime.grpo.trainer",
    "load_dataset_file": "runtime.grpo.dataset_files",
    "load_reward_function": "runtime.grpo.reward_loading",
})

__all__ = [
    "TASKS",
    "GRPOConfig",
    "GRPOConfigError",
    "GRPODatasetError",
    "GRPOError",
    "GRPOInputError",
    "GRPOModelError",
    "GRPOOutputDirError",
    "GRPOTaskError",
    "GRPOTrainer",
    "Task",
    "UnbuiltPreset",
    "add_config_arguments",
    "aggregate_rewards",
    "compute_advantages",
    "compute_loss",
    "config_from_args",
    "get_task",
    "load_dataset_file",
    "load_reward_function",
]
