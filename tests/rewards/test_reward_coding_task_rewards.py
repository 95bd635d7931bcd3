"""The TRL reward functions of the matmul task."""

from __future__ import annotations

import logging
import subprocess
import uuid

import pytest

from runtime.rewards import CodingTaskRewards
from runtime.rewards.evaluation import evaluate as real_evaluate

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
    return CodingTaskRewards(quick_matmul, max_speedup=4.0)


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


def test_a_completion_without_the_function_earns_no_no_cheating_reward(rewards):
    assert rewards.no_cheating([], ["", "I do not know.", [{"role": "assistant", "content": ""}]]) == [0.0] * 3


def test_correct_needs_clean_analysis_and_right_results(rewards):
    assert rewards.correct([], COMPLETIONS) == [1.0, 0.0, 0.0, 0.0]


def test_speed_is_bounded_and_zero_unless_correct(rewards):
    speed = rewards.speed([], COMPLETIONS)
    assert 0.0 < speed[0] <= 4.0 and speed[1:] == [0.0, 0.0, 0.0]


def test_code_in_the_thinking_is_never_judged(rewards):
    completion = [{"role": "assistant", "thinking": f"```python\n{HONEST}```", "content": "I give up."}]
    assert rewards.function_works([], [completion]) == [0.0]


def test_all_four_rewards_share_one_analysis_and_one_evaluation_per_code(quick_matmul, monkeypatch):
    code = HONEST + f"# {uuid.uuid4()}\n"
    workers, evaluations = [], []
    real_popen = subprocess.Popen

    def counting_popen(command, *args, **kwargs):
        if "-c" in command:
            workers.append(command)
        return real_popen(command, *args, **kwargs)

    def counting_evaluate(source, task, seed=None):
        evaluations.append(source)
        return real_evaluate(source, task, seed=seed)

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    monkeypatch.setattr("runtime.rewards.coding_task_rewards.evaluate", counting_evaluate)
    rewards = CodingTaskRewards(quick_matmul)
    for function in rewards.reward_funcs:
        function([], [code, code])
    assert len(evaluations) == 1
    assert len([command for command in workers if "runtime.rewards.analysis_worker" in " ".join(command)]) == 1


def test_a_failing_judge_scores_zero_and_logs_instead_of_raising(quick_matmul, monkeypatch, caplog):
    def unavailable(*args, **kwargs):
        raise RuntimeError("the sandbox is gone")

    monkeypatch.setattr("runtime.rewards.coding_task_rewards.evaluate", unavailable)
    rewards = CodingTaskRewards(quick_matmul)
    with caplog.at_level(logging.WARNING, logger="runtime.rewards.coding_task_rewards"):
        assert rewards.correct([], [HONEST]) == [0.0]
        assert rewards.speed([], [HONEST]) == [0.0]
    assert "the sandbox is gone" in caplog.text


def test_a_failing_analysis_scores_zero_and_logs_instead_of_raising(quick_matmul, monkeypatch, caplog):
    monkeypatch.setattr("runtime.rewards.analyzer.WORKER_BOOTSTRAP", "import sys; sys.exit('broken worker')")
    rewards = CodingTaskRewards(quick_matmul)
    code = HONEST + f"# {uuid.uuid4()}\n"
    with caplog.at_level(logging.WARNING, logger="runtime.rewards.coding_task_rewards"):
        assert [function([], [code]) for function in rewards.reward_funcs] == [[0.0]] * 4
    assert "broken worker" in caplog.text
