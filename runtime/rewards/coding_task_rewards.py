"""A coding task's rewards as TRL reward functions: ``(prompts, completions, **columns) -> list[float]``."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence

from runtime.rewards.analyzer import analyze_many
from runtime.rewards.coding_task import CodingTask
from runtime.rewards.completion_code import Completion, completion_code
from runtime.rewards.entry_point import defines_function
from runtime.rewards.evaluation import Evaluation, evaluate
from runtime.rewards.verdict import Verdict

RewardFunction = Callable[..., list[float]]

logger = logging.getLogger(__name__)


class CodingTaskRewards:
    """The four rewards of one coding task, each a TRL reward function (pass ``rewards.reward_funcs`` as
    ``GRPOTrainer(reward_funcs=...)``; TRL logs each under its name). Completions may be strings or chat
    messages, whose ``content`` (the final channel) holds the code, never their ``thinking``; the code is the
    first python code block when fenced.

    - ``function_works``: 1.0 when the code parses and defines the entry point, else 0.0.
    - ``no_cheating``: 1.0 when the code defines the entry point and static analysis accepts it, else 0.0 (an
      empty or garbled completion has nothing to cheat with, and earns nothing: the seed notebook's rule).
    - ``correct``: 1.0 when the code passes analysis and, run in the sandbox, matches the reference on
      every case, else 0.0 (code rejected by analysis is never run).
    - ``speed``: the reference's median time over the code's, capped at ``max_speedup``, when correct;
      else 0.0.

    Each distinct code is analysed once, in one isolated batch per call (the verdicts are shared by all four
    rewards and by the evaluation), and ``correct`` and ``speed`` share one sandboxed evaluation per
    distinct code (kept for the last ``cache_size`` codes; a failure of the judge is not kept, so the code is
    judged again the next time it comes). ``seed`` fixes the random inputs; None draws
    fresh ones per evaluation. A failure of the judge itself (the sandbox or the analysis unavailable, any
    exception) is logged as a warning and scores 0.0 for the completions it hit; it never raises.
    """

    def __init__(
        self, task: CodingTask, max_speedup: float = 10.0, cache_size: int = 1024, seed: int | None = None
    ) -> None:
        self.task = task
        self.max_speedup = max_speedup
        self.seed = seed
        self._evaluation: Callable[[str], Evaluation] = functools.lru_cache(maxsize=cache_size)(self._evaluate)

    @property
    def reward_funcs(self) -> list[RewardFunction]:
        return [self.function_works, self.no_cheating, self.correct, self.speed]

    def function_works(self, prompts: Sequence[object], completions: Sequence[Completion],
                       **columns) -> list[float]:
        return [float(self._defines_entry_point(code, verdict)) for code, verdict in self._analysed(completions)]

    def no_cheating(self, prompts: Sequence[object], completions: Sequence[Completion],
                    **columns) -> list[float]:
        return [float(self._defines_entry_point(code, verdict) and verdict.accepted)
                for code, verdict in self._analysed(completions)]

    def _defines_entry_point(self, code: str, verdict: Verdict | None) -> bool:
        task = self.task
        return verdict is not None and verdict.analysed and defines_function(code, task.entry_point, task.arity)

    def correct(self, prompts: Sequence[object], completions: Sequence[Completion], **columns) -> list[float]:
        return [float(evaluation is not None and evaluation.accepted)
                for evaluation in self._evaluated(completions)]

    def speed(self, prompts: Sequence[object], completions: Sequence[Completion], **columns) -> list[float]:
        return [min(evaluation.speedup, self.max_speedup) if evaluation is not None else 0.0
                for evaluation in self._evaluated(completions)]

    def _analysed(self, completions: Sequence[Completion]) -> list[tuple[str, Verdict | None]]:
        """Each completion's code with its verdict (None when the analysis itself failed)."""
        codes = [completion_code(completion) for completion in completions]
        try:
            verdicts: list[Verdict | None] = list(analyze_many(codes, self.task.allowed_modules))
        except Exception as error:  # the judge's failure must not end a training run
            logger.warning("static analysis failed for %d completions (%s: %s); they score 0.0",
                           len(codes), type(error).__name__, error)
            verdicts = [None] * len(codes)
        return list(zip(codes, verdicts, strict=True))

    def _evaluated(self, completions: Sequence[Completion]) -> list[Evaluation | None]:
        analysed = self._analysed(completions)  # one isolated batch: the evaluations find these verdicts
        return [self._evaluation_or_log(code) if verdict is not None else None for code, verdict in analysed]

    def _evaluate(self, code: str) -> Evaluation:
        return evaluate(code, self.task, seed=self.seed)

    def _evaluation_or_log(self, code: str) -> Evaluation | None:
        try:
            return self._evaluation(code)  # lru_cache keeps no exception: a failed judging is tried again
        except Exception as error:  # the judge's failure must not end a training run
            logger.warning("judging a completion failed (%s: %s); it scores 0.0", type(error).__name__, error)
            return None
