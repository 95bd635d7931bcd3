"""Calling TRL-style reward functions on a step's completions.

A reward function is `func(prompts, completions, completion_ids, **columns) -> list[float | None]`, one value
per completion (None when it cannot judge that completion). `prompts` are the dataset's prompts, each repeated
once per completion of its group; `completions` are the completions as the prompts are given: lists of token
ids for token-id prompts, strings for string prompts, and [{"role": "assistant", "content": text}] for
conversations; `completion_ids` are always the token ids (up to and including the stop token); `columns` are
the dataset's other columns, one value per completion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from runtime.grpo.errors import GRPOInputError
from runtime.grpo.prompts import is_token_ids

RewardFunction = Callable[..., Sequence[float | None]]


def reward_function_name(func: RewardFunction) -> str:
    """The name a reward function's metrics are logged under (its `__name__`, as TRL)."""
    return getattr(func, "__name__", type(func).__name__)


def score_completions(
    reward_funcs: Sequence[RewardFunction],
    prompts: list[Any],
    completions: list[Any],
    completion_ids: list[list[int]],
    columns: dict[str, list[Any]],
) -> torch.Tensor:
    """[B, F] float32 rewards of B completions by F functions; NaN where a function returned None."""
    scores = []
    for func in reward_funcs:
        values = list(func(prompts=prompts, completions=completions, completion_ids=completion_ids, **columns))
        if len(values) != len(completions):
            raise GRPOInputError(
                f"reward function {reward_function_name(func)} returned {len(values)} values for "
                f"{len(completions)} completions: return one reward (or None) per completion."
            )
        scores.append([math.nan if value is None else float(value) for value in values])
    return torch.tensor(scores, dtype=torch.float32).T.contiguous()


def completions_as_given(completion_ids: list[list[int]], prompt: Any, processing_class: Any) -> list[Any]:
    """Completions in the form of `prompt` (one of the step's prompts): token ids, decoded text, or one assistant
    message each (TRL's convention for conversations)."""
    if is_token_ids(prompt):
        return completion_ids
    texts = processing_class.batch_decode(completion_ids, skip_special_tokens=True)
    if isinstance(prompt, str):
        return texts
    return [[{"role": "assistant", "content": text}] for text in texts]


def reward_metrics(
    per_func_rewards: torch.Tensor, rewards: torch.Tensor, names: list[str], num_generations: int
) -> dict[str, float]:
    """TRL's reward metrics: the mean (weighted-sum) reward, the mean of the groups' standard deviations, the
    fraction of groups whose rewards are all equal (they teach nothing), and each function's mean."""
    group_std = rewards.view(-1, num_generations).std(dim=1)
    metrics = {
        "reward_mean": rewards.nanmean().item(),
        "reward_std": group_std.nanmean().item(),
        "frac_reward_zero_std": (group_std == 0).float().mean().item(),
    }
    for index, name in enumerate(names):
        metrics[f"rewards/{name}/mean"] = per_func_rewards[:, index].nanmean().item()
    return metrics
