"""The whole pipeline for one submission: static analysis, sandboxed run, correctness, speed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from runtime.rewards.analyzer import analyze
from runtime.rewards.benchmark import reference_seconds, speedup
from runtime.rewards.coding_task import Arguments, CodingTask
from runtime.rewards.entry_point import defines_function
from runtime.rewards.input_randomness import KeyedRandom, fresh_seed
from runtime.rewards.sandbox import SandboxJob, SandboxOutcome, run_in_sandbox
from runtime.rewards.verdict import Finding, rule_names

ENTRY_POINT_RULE = "entry-point"
INCORRECT_RULE = "incorrect"
RUNTIME_RULES = {
    "error": "runtime-error", "timeout": "timeout", "crashed": "crashed", "incorrect": INCORRECT_RULE,
}
"""Rule names of the findings for each failing sandbox status."""


@dataclass(frozen=True)
class Evaluation:
    """Outcome of the pipeline. ``stage`` is where it stopped: ``"static"`` (analysis or missing
    entry point), ``"runtime"`` (failed, timed out or wrong in the sandbox) or ``"ok"`` (accepted)."""

    stage: Literal["static", "runtime", "ok"]
    findings: tuple[Finding, ...] = ()
    speedup: float = 0.0
    """Reference median time over the submission's; 0.0 unless accepted."""
    seed: int = 0
    """Seed of the inputs: ``evaluate(..., seed=seed)`` draws the same inputs again."""
    warning: str = ""
    """Set when the code ran in the weak sandbox (``SandboxLimits.allow_weak_sandbox``)."""

    @property
    def accepted(self) -> bool:
        return self.stage == "ok"

    @property
    def verdict(self) -> Literal["accept", "reject"]:
        return "accept" if self.accepted else "reject"

    @property
    def rules(self) -> tuple[str, ...]:
        return rule_names(self.findings)


def evaluate(source: str, task: CodingTask, seed: int | None = None) -> Evaluation:
    """Judge ``source`` for ``task``. Code that fails static analysis is never run. Code that passes is run
    once in the sandbox on the correctness cases followed by the benchmark cases, all drawn from ``seed``
    (fresh randomness when None; the verdict records the seed either way); the parent checks every output
    against the reference computed here from pristine inputs, stopping at the first wrong one, and compares
    the benchmark times, measured from outside, with the reference's, timed the same way.

    Raises ``SandboxUnavailableError`` when the OS sandbox cannot be set up (see ``SandboxLimits``)."""
    seed = fresh_seed() if seed is None else seed
    verdict = analyze(source, task.allowed_modules)
    if not verdict.accepted:
        return Evaluation("static", verdict.findings, seed=seed)
    if not defines_function(source, task.entry_point, task.arity):
        return Evaluation("static", (Finding(ENTRY_POINT_RULE, 1, 0, (
            f"define a module-level function `{task.entry_point}` taking {task.arity} positional arguments")),),
            seed=seed)
    rng = KeyedRandom(seed)
    check_cases, benchmark_cases = task.check_cases(rng), task.benchmark_cases(rng)
    cases = check_cases + benchmark_cases
    job = SandboxJob(source, task.entry_point, cases, task.allowed_modules, check=_checker(task, cases))
    outcome = run_in_sandbox(job, task.limits)
    if not outcome.ok:
        finding = _runtime_finding(task, cases, outcome)
        return Evaluation("runtime", (finding,), seed=seed, warning=outcome.warning)
    submission_seconds = [call.seconds for call in outcome.calls[len(check_cases):]]
    return Evaluation("ok", speedup=speedup(reference_seconds(task, benchmark_cases), submission_seconds),
                      seed=seed, warning=outcome.warning)


def _checker(task: CodingTask, cases: list[Arguments]):
    def matches_reference(index: int, output: object) -> bool:
        return task.outputs_match(task.reference(*cases[index]), output)
    return matches_reference


def _runtime_finding(task: CodingTask, cases: list[Arguments], outcome: SandboxOutcome) -> Finding:
    if outcome.status == "incorrect":
        arguments = cases[len(outcome.calls) - 1]
        return Finding(INCORRECT_RULE, 0, 0, (
            f"wrong result for inputs of shape {_shape(arguments)}; it must match {task.reference.__name__}"))
    return Finding(RUNTIME_RULES[outcome.status], outcome.line, 0, outcome.error)


def _shape(arguments: Arguments) -> str:
    return ", ".join(f"{len(argument)}x{len(argument[0]) if argument else 0}" for argument in arguments)
