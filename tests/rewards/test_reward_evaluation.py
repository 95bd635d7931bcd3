"""The pipeline: static analysis first, then the sandbox, correctness against pristine inputs, speed."""

from __future__ import annotations

import dataclasses

import pytest

from runtime.rewards import KeyedRandom, SandboxError, evaluate
from runtime.rewards.benchmark import reference_seconds, speedup

ZIP_MATMUL = "def matmul(A, B):\n    return [[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]\n"


def test_rejected_code_never_reaches_the_sandbox(quick_matmul, monkeypatch):
    monkeypatch.setattr("runtime.rewards.evaluation.run_in_sandbox", pytest.fail)
    evaluation = evaluate("import numpy\ndef matmul(A, B):\n    return numpy.dot(A, B)\n", quick_matmul, seed=0)
    assert (evaluation.verdict, evaluation.stage, evaluation.rules) == (
        "reject", "static", ("import-outside-allowlist",)
    )


def test_missing_entry_point_is_a_static_rejection(quick_matmul):
    evaluation = evaluate("def mat_mul(A, B):\n    return A\n", quick_matmul, seed=0)
    assert (evaluation.stage, evaluation.rules) == ("static", ("entry-point",))


def test_mutating_the_inputs_does_not_change_the_expected_result(quick_matmul):
    source = ("def matmul(A, B):\n    result = [[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]\n"
              "    for row in A:\n        row[:] = [0.0] * len(row)\n    B.clear()\n    return result\n")
    assert evaluate(source, quick_matmul, seed=0).accepted


def test_wrong_results_are_rejected_at_runtime(quick_matmul):
    source = "def matmul(A, B):\n    return [[0.0] * len(B[0]) for _ in A]\n"
    evaluation = evaluate(source, quick_matmul, seed=0)
    assert (evaluation.stage, evaluation.rules, evaluation.speedup) == ("runtime", ("incorrect",), 0.0)
    assert "shape 1x1, 1x1" in evaluation.findings[0].message, "the first wrong call ends the run"


def test_code_right_only_on_the_small_cases_is_rejected_at_the_benchmark(quick_matmul):
    source = ("def matmul(A, B):\n    if len(A) > 8:\n        return [[0.0] * len(B[0]) for _ in A]\n"
              "    return [[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]\n")
    evaluation = evaluate(source, quick_matmul, seed=0)
    assert evaluation.rules == ("incorrect",) and "12x12" in evaluation.findings[0].message


def test_numbers_beyond_the_float_range_are_wrong_answers(quick_matmul):
    source = "def matmul(A, B):\n    return [[10 ** 400] * len(B[0]) for _ in A]\n"
    assert evaluate(source, quick_matmul, seed=0).rules == ("incorrect",)


def test_crashing_code_is_rejected_with_its_line(quick_matmul):
    evaluation = evaluate("def matmul(A, B):\n    return A[0][0] / 0\n", quick_matmul, seed=0)
    assert (evaluation.stage, evaluation.rules) == ("runtime", ("runtime-error",))
    assert evaluation.findings[0].line == 2 and "ZeroDivisionError" in evaluation.findings[0].message


def test_slow_code_times_out(quick_matmul):
    task = dataclasses.replace(quick_matmul, limits=dataclasses.replace(quick_matmul.limits, wall_seconds=1.5))
    evaluation = evaluate("def matmul(A, B):\n    while True:\n        pass\n", task, seed=0)
    assert evaluation.rules == ("timeout",)


def test_accepted_code_is_timed_against_the_reference(quick_matmul):
    evaluation = evaluate(ZIP_MATMUL, quick_matmul, seed=0)
    assert evaluation.accepted and 0.05 < evaluation.speedup < 50


def test_the_reference_is_timed_in_the_sandbox_call_by_call(quick_matmul):
    seconds = reference_seconds(quick_matmul, quick_matmul.benchmark_cases(KeyedRandom(0)))
    assert len(seconds) == quick_matmul.benchmark_loops and all(0 < second < 1 for second in seconds)


def test_inputs_are_fresh_unless_a_seed_reproduces_them(quick_matmul):
    first, second = evaluate(ZIP_MATMUL, quick_matmul), evaluate(ZIP_MATMUL, quick_matmul)
    assert first.accepted and second.accepted and first.seed != second.seed
    assert evaluate(ZIP_MATMUL, quick_matmul, seed=first.seed).seed == first.seed


def test_speedup_compares_median_times():
    assert speedup([2.0, 9.0, 2.0], [1.0, 1.0, 7.0]) == 2.0


def test_a_reference_that_fails_in_the_sandbox_is_a_task_error(quick_matmul):
    def broken_matmul(A, B):
        raise RuntimeError("broken reference")

    task = dataclasses.replace(quick_matmul, reference=broken_matmul)
    with pytest.raises(SandboxError, match="broken_matmul"):
        reference_seconds(task, [([[1.0]], [[1.0]])])
