"""From reward-function outputs to one advantage per completion, as TRL 1.16's GRPOTrainer computes them.

Follows `_generate_and_score_completions` in trl/trainer/grpo_trainer.py with the default
`multi_objective_aggregation="sum_then_normalize"`: weighted rewards are summed per completion, then centred on
their group's mean and scaled by a standard deviation chosen by `scale_rewards`.
A completion that no reward function could score (all NaN) has a NaN reward, is left out of its group's
statistics, and gets advantage 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from runtime.grpo.errors import GRPOInputError
from runtime.grpo.loss_names import SCALE_REWARDS

# Added to the standard deviation so that a group of equal rewards divides by a small number, not zero.
STD_EPSILON = 1e-4


def aggregate_rewards(per_func_rewards: torch.Tensor, reward_weights: Sequence[float] | None) -> torch.Tensor:
    """[B] weighted sum of the [B, F] rewards of F functions, skipping NaN (a function that did not score a row).

    `reward_weights` has one weight per function; None weighs each 1.0. A row where every function returned NaN
    stays NaN, so `compute_advantages` can tell it apart from a zero reward.
    """
    if per_func_rewards.dim() != 2:
        raise GRPOInputError(
            f"per_func_rewards must be [completions, reward functions], got shape {tuple(per_func_rewards.shape)}."
        )
    num_functions = per_func_rewards.shape[1]
    if reward_weights is None:
        weights = torch.ones(num_functions, dtype=per_func_rewards.dtype, device=per_func_rewards.device)
    else:
        weights = torch.as_tensor(
            reward_weights, dtype=per_func_rewards.dtype, device=per_func_rewards.device
        )
    if weights.shape != (num_functions,):
        raise GRPOInputError(
            f"{weights.numel()} reward weights for {num_functions} reward functions: pass one weight per function "
            "(--reward-weights), or none to weigh them equally."
        )
    rewards = (per_func_rewards * weights.unsqueeze(0)).nansum(dim=1)
    rewards[torch.isnan(per_func_rewards).all(dim=1)] = torch.nan
    return rewards


def compute_advantages(rewards: torch.Tensor, num_generations: int, scale_rewards: str) -> torch.Tensor:
    """[B] group-relative advantages of [B] rewards laid out as consecutive groups of `num_generations`.

    advantage = reward - mean of its group, divided by (std + 1e-4) where std is, per `scale_rewards`,
    the group's ("group") or the whole batch's ("batch") sample standard deviation (Bessel-corrected),
    or not divided at all ("none"). NaN rewards are ignored in means and stds and get advantage 0.
    """
    if scale_rewards not in SCALE_REWARDS:
        raise GRPOInputError(
            f"scale_rewards={scale_rewards!r} is unknown: use one of {', '.join(SCALE_REWARDS)}."
        )
    if rewards.dim() != 1 or rewards.numel() % num_generations != 0:
        raise GRPOInputError(
            f"rewards of shape {tuple(rewards.shape)} do not split into groups of num_generations={num_generations}: "
            "pass a 1-D tensor whose length is a multiple of num_generations, each prompt's completions together."
        )
    grouped = rewards.view(-1, num_generations)
    group_means = torch.nanmean(grouped, dim=1).repeat_interleave(num_generations)
    advantages = rewards - group_means
    if scale_rewards == "group":
        advantages = advantages / (_group_std(grouped, num_generations) + STD_EPSILON)
    elif scale_rewards == "batch":
        batch_std = (
            _nan_std(rewards, dim=0)
            if rewards.numel() > 1
            else torch.zeros((), dtype=rewards.dtype, device=rewards.device)
        )
        advantages = advantages / (batch_std + STD_EPSILON)
    return torch.nan_to_num(advantages, nan=0.0)


def _group_std(grouped: torch.Tensor, num_generations: int) -> torch.Tensor:
    """[B] std of each completion's group; 0 for groups of one (TRL's evaluation with one generation)."""
    if num_generations == 1:
        return torch.zeros(grouped.numel(), dtype=grouped.dtype, device=grouped.device)
    return _nan_std(grouped, dim=1).repeat_interleave(num_generations)


def _nan_std(values: torch.Tensor, dim: int) -> torch.Tensor:
    """Bessel-corrected standard deviation ignoring NaN; NaN where fewer than two values remain (as TRL's nanstd)."""
    mean = torch.nanmean(values, dim=dim, keepdim=True)
    variance = torch.nanmean((values - mean) ** 2, dim=dim)
    count = (~torch.isnan(values)).sum(dim=dim)
    variance = torch.where(count > 1, variance * count / (count - 1), torch.nan)
    return torch.sqrt(variance)
