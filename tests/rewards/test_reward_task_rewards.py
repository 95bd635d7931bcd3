"""The TRL reward functions of the matmul task."""

from __future__ import annotations

import pytest

from runtime.rewards import TaskRewards, run_in_sandbox

HONEST = "def matmul(A, B):\n    return [[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]\n"
CHEAT = "import numpy\n\ndef matmul(A, B):\n    return numpy.dot(A, B).tolist()\n"
WRONG = "def matmul(A, B):\n    return A\n"
BROKEN = "def matmul(A, B)\n    return A\n"
COMPLETIONS = [
    f"Here is my answer:\n```python\n{HONEST}```\nIt transposes B first.",
    [{"role": "assistant", "content": f"```python\n{CHEAT}```"}],
    WRONG,
    BROKEN,
]


@pytest.fixture(scope="module")
def rewards(quick_matmul):
    return TaskRewards(quick_matmul, max_speedup=4.0, seed=0)


def test_reward_functions_follow_the_trl_signature(rewards):
    assert [function.__name__ for function in rewards.reward_funcs] == [
        "function_works", "no_cheating", "correct", "speed"]
    for function in rewards.reward_funcs:
        scores = function(prompts=["p"] * len(COMPLETIONS), completions=COMPLETIONS, answer=[None] * 4)
        assert len(scores) == len(COMPLETIONS) and all(isinstance(score, float) for score in scores)


def test_function_works_checks_the_entry_point(rewards):
    assert rewards.function_works([], COMPLETIONS) == [1.0, 1.0, 1.0, 0.0]


def test_no_cheating_runs_the_static_analysis(rewards):
    assert rewards.no_cheating([], COMPLETIONS) == [1.0, 0.0, 1.0, 0.0]


def test_correct_needs_clean_analysis_and_right_results(rewards):
    assert rewards.correct([], COMPLETIONS) == [1.0, 0.0, 0.0, 0.0]


def test_speed_is_bounded_and_zero_unless_correct(rewards):
    speed = rewards.speed([], COMPLETIONS)
    assert 0.0 < speed[0] <= 4.0 and speed[1:] == [0.0, 0.0, 0.0]


def test_correct_and_speed_share_one_evaluation_per_code(quick_matmul, monkeypatch):
    runs = []

    def counting_run(*args):
        runs.append(args)
        return run_in_sandbox(*args)

    monkeypatch.setattr("runtime.rewards.evaluation.run_in_sandbox", counting_run)
    rewards = TaskRewards(quick_matmul, seed=0)
    rewards.correct([], [HONEST, HONEST])
    rewards.speed([], [HONEST])
    assert len(runs) == 1
