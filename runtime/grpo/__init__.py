"""GRPO training: TRL's config names, loss formulas and trainer steps, as plain code."""

from runtime.grpo.advantages import aggregate_rewards, compute_advantages
from runtime.grpo.config import GRPOConfig
from runtime.grpo.config_arguments import add_config_arguments, config_from_args
from runtime.grpo.errors import (
    GRPOConfigError,
    GRPODatasetError,
    GRPOError,
    GRPOInputError,
    GRPOModelError,
    GRPOOutputDirError,
    GRPOTaskError,
)
from runtime.grpo.loss import compute_loss
from runtime.grpo.sharding import UnbuiltPreset
from runtime.grpo.tasks import TASKS, Task, get_task
from runtime.grpo.trainer import GRPOTrainer

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
]
