"""A task's rewards as TRL reward functions: ``(prompts, completions, **columns) -> list[float]``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from runtime.rewards.analyzer import analyze
from runtime.rewards.completion_code import Completion, completion_code
from runtime.rewards.entry_point import defines_function
from runtime.rewards.evaluation import Evaluation, evaluate
from runtime.rewards.task import Task

RewardFunction = Callable[..., list[float]]


class TaskRewards:
    """The four rewards of one task, each a TRL reward function (pass ``rewards.reward_funcs`` as
    ``GRPOTrainer(reward_funcs=...)``; TRL logs each under its name). Completions may be strings or
    chat messages; the code is the first python code block when fenced.

    - ``function_works``: 1.0 when the code parses and defines the entry point, else 0.0.
    - ``no_cheating``: 1.0 when static analysis accepts the code, else 0.0.
    - ``correct``: 1.0 when the code passes analysis and, run in the sandbox, matches the reference on
      every case, else 0.0 (code rejected by analysis is never run).
    - ``speed``: the reference's median time over the code's, capped at ``max_speedup``, when correct;
      else 0.0.

    ``correct`` and ``speed`` share one sandboxed evaluation per distinct code (kept for the last
    ``cache_size`` codes). ``seed`` fixes the random inputs; None draws new ones per evaluation.
    """

    def __init__(self, task: Task, max_speedup: float = 10.0, cache_size: int = 1024, seed: int | None = None):
        self.task = task
        self.max_speedup = max_speedup
        self._evaluate: Callable[[str], Evaluation] = functools.lru_cache(maxsize=cache_size)(
            functools.partial(evaluate, task=task, seed=seed)
        )

    @property
    def reward_funcs(self) -> list[RewardFunction]:
        return [self.function_works, self.no_cheating, self.correct, self.speed]

    def function_works(self, prompts: Sequence[object], completions: Sequence[Completion], **columns) -> list[float]:
        task = self.task
        return [float(defines_function(code, task.entry_point, task.arity)) for code in _codes(completions)]

    def no_cheating(self, prompts: Sequence[object], completions: Sequence[Completion], **columns) -> list[float]:
        return [float(analyze(code, self.task.allowed_modules).accepted) for code in _codes(completions)]

    def correct(self, prompts: Sequence[object], completions: Sequence[Completion], **columns) -> list[float]:
        return [float(self._evaluate(code).accepted) for code in _codes(completions)]

    def speed(self, prompts: Sequence[object], completions: Sequence[Completion], **columns) -> list[float]:
        return [min(self._evaluate(code).speedup, self.max_speedup) for code in _codes(completions)]


def _codes(completions: Sequence[Completion]) -> list[str]:
    return [completion_code(completion) for completion in completions]
