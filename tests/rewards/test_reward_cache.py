"""What the reward functions remember between calls: verdicts of the code, never failures of the judge."""

from __future__ import annotations

from runtime.rewards import CodingTaskRewards
from runtime.rewards.evaluation import evaluate as real_evaluate

HONEST = "def matmul(A, B):\n    return [[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]\n"


def test_a_judge_failure_is_not_remembered_for_the_code_it_hit(quick_matmul, monkeypatch):
    """A transient failure (the sandbox did not start on a loaded machine) scores 0.0 once; the same code is
    judged afresh the next time, not held at 0.0 for as long as the cache keeps it."""
    failures = ["the sandbox did not start"]

    def flaky_evaluate(source, task, seed=None):
        if failures:
            raise RuntimeError(failures.pop())
        return real_evaluate(source, task, seed=seed)

    monkeypatch.setattr("runtime.rewards.coding_task_rewards.evaluate", flaky_evaluate)
    rewards = CodingTaskRewards(quick_matmul)
    assert rewards.correct([], [HONEST]) == [0.0]
    assert rewards.correct([], [HONEST]) == [1.0]
