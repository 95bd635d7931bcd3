"""The whole pipeline for one submission: static analysis, sandboxed run, correctness, speed."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from typing import Literal

from runtime.rewards.analyzer import analyze
from runtime.rewards.benchmark import reference_seconds, speedup
from runtime.rewards.entry_point import defines_function
from runtime.rewards.sandbox import SandboxJob, run_in_sandbox
from runtime.rewards.task import Task
from runtime.rewards.verdict import Finding, rule_names

ENTRY_POINT_RULE = "entry-point"
INCORRECT_RULE = "incorrect"
RUNTIME_RULES = {"error": "runtime-error", "timeout": "timeout", "crashed": "crashed"}
"""Rule names of the findings for each failing sandbox status."""


@dataclass(frozen=True)
class Evaluation:
    """Outcome of the pipeline. ``stage`` is where it stopped: ``"static"`` (analysis or missing
    entry point), ``"runtime"`` (failed, timed out or wrong in the sandbox) or ``"ok"`` (accepted)."""

    stage: Literal["static", "runtime", "ok"]
    findings: tuple[Finding, ...] = ()
    speedup: float = 0.0
    """Reference median time over the submission's; 0.0 unless accepted."""

    @property
    def accepted(self) -> bool:
        return self.stage == "ok"

    @property
    def verdict(self) -> Literal["accept", "reject"]:
        return "accept" if self.accepted else "reject"

    @property
    def rules(self) -> tuple[str, ...]:
        return rule_names(self.findings)


def evaluate(source: str, task: Task, seed: int | None = None) -> Evaluation:
    """Judge ``source`` for ``task``. Code that fails static analysis is never run. Code that passes is
    run once in the sandbox on the correctness cases followed by the benchmark cases (all drawn from
    ``seed``, random when None); every output is checked against the reference computed here from
    pristine inputs, and the benchmark times are compared with the reference's, timed the same way."""
    verdict = analyze(source, task.allowed_modules)
    if not verdict.accepted:
        return Evaluation("static", verdict.findings)
    if not defines_function(source, task.entry_point, task.arity):
        return Evaluation("static", (Finding(ENTRY_POINT_RULE, 1, 0, (
            f"define a module-level function `{task.entry_point}` taking {task.arity} positional arguments")),))
    rng = random.Random(secrets.randbits(64) if seed is None else seed)
    check_cases, benchmark_cases = task.check_cases(rng), task.benchmark_cases(rng)
    cases = check_cases + benchmark_cases
    outcome = run_in_sandbox(SandboxJob(source, task.entry_point, cases, task.allowed_modules), task.limits)
    if not outcome.ok:
        return Evaluation("runtime", (Finding(RUNTIME_RULES[outcome.status], outcome.line, 0, outcome.error),))
    for arguments, call in zip(cases, outcome.calls, strict=True):
        if not task.outputs_match(task.reference(*arguments), call.output):
            return Evaluation("runtime", (Finding(INCORRECT_RULE, 0, 0, (
                f"wrong result for inputs of shape {_shape(arguments)}; it must match {task.reference.__name__}")),))
    submission_seconds = [call.seconds for call in outcome.calls[len(check_cases):]]
    return Evaluation("ok", speedup=speedup(reference_seconds(task, benchmark_cases), submission_seconds))


def _shape(arguments: tuple) -> str:
    return ", ".join(f"{len(argument)}x{len(argument[0]) if argument else 0}" for argument in arguments)
