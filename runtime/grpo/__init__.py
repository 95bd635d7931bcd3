"""GRPO training: TRL's config names and loss formulas, as plain code."""

from runtime.grpo.advantages import aggregate_rewards, compute_advantages
from runtime.grpo.config import GRPOConfig
from runtime.grpo.config_arguments import add_config_arguments, config_from_args
from runtime.grpo.errors import GRPOConfigError, GRPOInputError
from runtime.grpo.loss import compute_loss

__all__ = [
    "GRPOConfig",
    "GRPOConfigError",
    "GRPOInputError",
    "add_config_arguments",
    "aggregate_rewards",
    "compute_advantages",
    "compute_loss",
    "config_from_args",
]
