"""The sample programs: every cheat gets what its first line expects, every honest solution is accepted.

A cheat's first line is one of::

    # expect: reject static RULE      rejected by static analysis, RULE among the verdict's rules
    # expect: reject runtime [RULE]   passes analysis, rejected when run (RULE among the rules, if given)
    # expect: no-gain                 harmless by design: rejected, or scored below NO_GAIN_SPEEDUP

Evaluations draw fresh random inputs, as training does: nothing here depends on a known seed.
"""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest
from timing_noise import holds_in_one_of_a_few

from runtime.rewards import evaluate
from runtime.rewards.analyzer import analyze_many
from runtime.rewards.matmul_task import random_matrices

PROGRAMS = Path(__file__).parent / "programs"

EXPECTATION = re.compile(r"# expect: (?:(?P<no_gain>no-gain)|reject (?P<stage>static|runtime)(?: (?P<rule>[\w-]+))?)$")
NO_GAIN_SPEEDUP = 2.0
"""A cheat that is harmless scores at most this over the naive triple loop, the reference. Honest pure-Python
solutions stay below it; a cheat that worked (answers precomputed, inputs predicted, native code) scores far
above it on the no-gain task's benchmark (a few evaluations decide, as timing noise comes and goes)."""


@pytest.fixture(scope="module")
def corpus_verdicts(sample_programs, quick_matmul) -> dict[Path, object]:
    """Static verdicts of every sample program, from one isolated batch (the evaluations below reuse them)."""
    sources = [path.read_text() for path in sample_programs]
    return dict(zip(sample_programs, analyze_many(sources, quick_matmul.allowed_modules), strict=True))


@pytest.fixture(scope="module")
def cheat_matmul(quick_matmul):
    """The quick task with tight limits (a cheat that hits one is rejected, which is all it can expect)."""
    limits = dataclasses.replace(quick_matmul.limits, wall_seconds=3.0, cpu_seconds=1.0, memory_bytes=256 << 20)
    return dataclasses.replace(quick_matmul, limits=limits)


@pytest.fixture(scope="module")
def no_gain_matmul(quick_matmul):
    """The task with a benchmark large enough that a cheat that pays stands out: the parent's timed window
    also holds decoding the inputs and encoding the reply, which small matrices would drown a gain in."""
    limits = dataclasses.replace(quick_matmul.limits, wall_seconds=5.0, cpu_seconds=2.0, memory_bytes=256 << 20)
    return dataclasses.replace(quick_matmul, benchmark_shape=(80, 80, 80), benchmark_loops=3, limits=limits)


def expectation(path: Path) -> re.Match:
    first_line = path.read_text().partition("\n")[0]
    match = EXPECTATION.fullmatch(first_line)
    assert match, f"{path.name} must start with an expectation line, not {first_line!r}"
    return match


def test_cheating_program_gets_what_it_expects(cheat_program, corpus_verdicts, cheat_matmul, no_gain_matmul):
    expected, source = expectation(cheat_program), cheat_program.read_text()
    verdict = corpus_verdicts[cheat_program]
    if expected["stage"] == "static":
        assert expected["rule"] in verdict.rules, [str(finding) for finding in verdict.findings]
        return
    assert verdict.accepted, f"analysis should let this through to the sandbox: {verdict.findings}"
    if expected["stage"] == "runtime":
        evaluation = evaluate(source, cheat_matmul)
        assert evaluation.stage == "runtime", evaluation
        assert expected["rule"] is None or expected["rule"] in evaluation.rules, evaluation.findings
    else:
        assert holds_in_one_of_a_few(lambda: scored_speedup(source, no_gain_matmul) < NO_GAIN_SPEEDUP)


def scored_speedup(source: str, task) -> float:
    """The speedup of one fresh evaluation; 0 when rejected."""
    evaluation = evaluate(source, task)
    return evaluation.speedup if evaluation.accepted else 0.0


def test_the_no_gain_bound_catches_a_cheat_that_pays(no_gain_matmul):
    """The input memo gains nothing because inputs never repeat; were they to repeat, the bound would see it."""
    def repeated_inputs(rng, shape):
        return random_matrices(random.Random(0), shape)

    repeating = dataclasses.replace(no_gain_matmul, make_arguments=repeated_inputs)
    memo = (PROGRAMS / "cheat" / "memo_across_calls.py").read_text()
    assert holds_in_one_of_a_few(lambda: scored_speedup(memo, repeating) > NO_GAIN_SPEEDUP)


def test_honest_program_is_accepted_by_the_whole_pipeline(honest_program, corpus_verdicts, quick_matmul):
    verdict = corpus_verdicts[honest_program]
    assert verdict.accepted, [str(finding) for finding in verdict.findings]
    evaluation = evaluate(honest_program.read_text(), quick_matmul)
    assert evaluation.verdict == "accept", [str(finding) for finding in evaluation.findings]
    assert evaluation.stage == "ok" and evaluation.speedup > 0
