"""Calling TRL-style reward functions on a step's completions.

A reward function is `func(prompts, completions, **kwargs) -> list[float | None]`, one value per completion (None
when it does not judge that completion), called with TRL 1.16's keyword arguments: `prompts` (the dataset's
prompts, each repeated once per completion of its group), `completions` (in the form of the prompts: token ids for
token-id prompts, text for string prompts, one parsed assistant message for conversations: `runtime.grpo.
completion_forms`), `completion_ids` (always the token ids, up to and including the stop token), `trainer_state`
(transformers' `TrainerState`), `log_extra(column, values)`, `log_metric(name, value)`, and every other dataset
column, one value per completion. `async def` reward functions run concurrently with each other.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch

from runtime.grpo.errors import GRPORewardError

RewardFunction = Callable[..., Sequence[float | None]]

logger = logging.getLogger(__name__)


def reward_function_name(func: RewardFunction) -> str:
    """The name a reward function's metrics are logged under, as TRL's `get_callable_name`: its `__name__`, that of
    the function a `functools.partial` wraps, or the class name of a callable instance."""
    while isinstance(func, functools.partial):
        func = func.func
    return getattr(func, "__name__", type(func).__name__)


def score_completions(
    reward_funcs: Sequence[RewardFunction],
    prompts: list[Any],
    completions: list[Any],
    completion_ids: list[list[int]],
    kwargs: dict[str, Any],
    row_labels: Sequence[str],
) -> torch.Tensor:
    """[B, F] float32 rewards of B completions by F functions; NaN where a function returned None.

    `kwargs` are the keyword arguments besides prompts, completions and completion_ids (columns, trainer_state,
    log_extra, log_metric); `row_labels[i]` says where completion i comes from, for messages. Raises
    `GRPORewardError` naming the function and the first failing completion when a function raises, returns the
    wrong number of values or a value that is not a number; NaN values are warned about and count as None.
    """
    inputs = {"prompts": prompts, "completions": completions, "completion_ids": completion_ids, **kwargs}
    results: dict[int, Sequence[Any]] = {}
    coroutines = {}
    for index, func in enumerate(reward_funcs):
        try:
            result = func(**inputs)
        except Exception as error:
            raise _failure(func, error, inputs, row_labels) from error
        if inspect.isawaitable(result):
            coroutines[index] = result
        else:
            results[index] = result
    results.update(_await_all(coroutines, reward_funcs, inputs, row_labels))
    columns = [_checked_values(reward_funcs[index], results[index], row_labels) for index in range(len(reward_funcs))]
    return torch.tensor(columns, dtype=torch.float32).T.reshape(len(completions), len(reward_funcs)).contiguous()


def _await_all(
    coroutines: dict[int, Any], reward_funcs: Sequence[RewardFunction], inputs: dict, row_labels: Sequence[str]
) -> dict[int, Sequence[Any]]:
    """Results of the async reward functions, run concurrently on an event loop of their own thread (so that a
    caller already inside an event loop, a notebook for one, can train)."""
    if not coroutines:
        return {}

    async def gather() -> list:
        return await asyncio.gather(*coroutines.values(), return_exceptions=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        outcomes = executor.submit(asyncio.run, gather()).result()
    results = {}
    for index, outcome in zip(coroutines, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            raise _failure(reward_funcs[index], outcome, inputs, row_labels) from outcome
        results[index] = outcome
    return results


def _checked_values(func: RewardFunction, values: Any, row_labels: Sequence[str]) -> list[float]:
    name = reward_function_name(func)
    try:
        values = list(values)
    except TypeError:
        raise GRPORewardError(
            f"reward function {name} returned {type(values).__name__}, not a list: return one reward (a number, "
            "or None) per completion."
        ) from None
    if len(values) != len(row_labels):
        raise GRPORewardError(
            f"reward function {name} returned {len(values)} values for {len(row_labels)} completions: return one "
            "reward (or None) per completion."
        )
    floats = []
    for value, label in zip(values, row_labels, strict=True):
        if value is None:
            floats.append(math.nan)
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise GRPORewardError(
                f"reward function {name} returned {value!r} for {label}: return a number, or None for no reward."
            ) from None
        if math.isnan(number):
            logger.warning("reward function %s returned NaN for %s: it counts as no reward (None); return None "
                           "to say so without this warning.", name, label)
        floats.append(number)
    return floats


def _failure(func: RewardFunction, error: BaseException, inputs: dict, row_labels: Sequence[str]) -> GRPORewardError:
    """The error to raise for a reward function that raised: names the function, and the first completion that
    fails on its own (found by calling the function on one completion at a time), when there is one."""
    name = reward_function_name(func)
    where = ""
    failing_row = _first_failing_row(func, inputs, len(row_labels))
    if failing_row is not None:
        where = f" on {row_labels[failing_row]}"
    return GRPORewardError(
        f"reward function {name} raised {type(error).__name__}: {error}{where}. Fix the function (it must return "
        "one number or None per completion); the run's checkpoints are intact, so it can then be resumed."
    )


def _first_failing_row(func: RewardFunction, inputs: dict, num_rows: int) -> int | None:
    for row in range(num_rows):
        single = {key: _row_slice(value, row, num_rows) for key, value in inputs.items()}
        try:
            result = func(**single)
            if inspect.isawaitable(result):
                with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
                    executor.submit(asyncio.run, _awaited(result)).result()
        except Exception:
            return row
    return None


async def _awaited(result: Any) -> Any:
    return await result


def _row_slice(value: Any, row: int, num_rows: int) -> Any:
    """Row `row` of a per-completion list kwarg as a one-element list; other kwargs unchanged."""
    if isinstance(value, list) and len(value) == num_rows:
        return value[row : row + 1]
    return value


class PendingLogs:
    """What reward functions hand to TRL's `log_extra(column, values)` and `log_metric(name, value)` kwargs during
    one scoring: extra columns for the completion log, and scalars averaged into the step's metrics."""

    def __init__(self) -> None:
        self.extra: dict[str, list[Any]] = {}
        self.scalars: dict[str, list[float]] = {}

    def log_extra(self, column: str, values: list[Any]) -> None:
        self.extra.setdefault(column, []).extend(values)

    def log_metric(self, name: str, value: float) -> None:
        self.scalars.setdefault(name, []).append(float(value))

    def rows(self, count: int) -> list[dict[str, Any]]:
        """The extra columns as one dict per completion (None where a column is short)."""
        return [{column: values[row] if row < len(values) else None for column, values in self.extra.items()}
                for row in range(count)]

    def metrics(self) -> dict[str, float]:
        return {name: sum(values) / len(values) for name, values in self.scalars.items()}


def reward_metrics(
    per_func_rewards: torch.Tensor, rewards: torch.Tensor, names: list[str], num_generations: int
) -> dict[str, float]:
    """TRL's reward metrics, under TRL's names: `reward` and `reward_std` (the mean and standard deviation of the
    weighted-sum rewards over the batch), `frac_reward_zero_std` (the fraction of groups whose rewards are all
    equal: they teach nothing), and each function's `rewards/NAME/mean` and `rewards/NAME/std`; NaN (None) rewards
    are left out."""
    group_std = rewards.view(-1, num_generations).std(dim=1)
    metrics = {
        "reward": rewards.nanmean().item(),
        "reward_std": _nanstd(rewards),
        "frac_reward_zero_std": (group_std == 0).float().mean().item(),
    }
    for index, name in enumerate(names):
        metrics[f"rewards/{name}/mean"] = per_func_rewards[:, index].nanmean().item()
        metrics[f"rewards/{name}/std"] = _nanstd(per_func_rewards[:, index])
    return metrics


def _nanstd(values: torch.Tensor) -> float:
    """The (Bessel-corrected) standard deviation of the values that are not NaN, as TRL's nanstd."""
    kept = values[~values.isnan()]
    return kept.std().item() if kept.numel() > 1 else math.nan
