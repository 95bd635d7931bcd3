"""Run submitted code in a sandboxed interpreter, never here; the parent owns the inputs, clock and checks.

``run_in_sandbox`` starts a fresh interpreter (``sandbox_launch``: the OS sandbox, see
``docs/reward-safety.md``), hands it the source, then sends the calls one at a time, each only after the
previous reply, so that the code never holds a future input. It times every call itself from outside (the
interpreter's CPU time as the kernel counts it, and the wall time) and checks each output as it arrives
(``SandboxJob.check``), so a wrong answer stops the run. Whatever the interpreter writes is at most a claim
about what a call returned: a malformed, oversized, late or unsolicited reply ends the run as ``"crashed"``
or ``"timeout"``, never as an exception here. At the end the whole sandbox is killed, whatever happened.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from runtime.rewards.sandbox_launch import launch_sandbox
from runtime.rewards.sandbox_limits import SandboxLimits
from runtime.rewards.sandbox_process import Answer, SandboxProcess, Stopped
from runtime.rewards.sandbox_protocol import Reply, Request, call_request, parse_reply, program_request

SandboxStatus = Literal["ok", "error", "timeout", "crashed", "incorrect"]
WEAK_SANDBOX_WARNING = (
    "judged without the OS sandbox (allow_weak_sandbox): the code ran as a plain subprocess with rlimits "
    "and an audit hook only, which a determined program escapes; do not train on this verdict"
)

DEFAULT_LIMITS = SandboxLimits()

__all__ = [
    "CallRecord", "SandboxJob", "SandboxLimits", "SandboxOutcome", "WeakSandboxWarning", "run_in_sandbox",
]


class WeakSandboxWarning(UserWarning):
    """A run used the weak sandbox (``SandboxLimits.allow_weak_sandbox``)."""


@dataclass(frozen=True)
class SandboxJob:
    """Run ``source``, then call its ``entry_point`` once per element of ``calls`` (each a sequence of
    positional arguments made of JSON-compatible plain data, decoded afresh in the sandbox for every call).
    ``check(index, output)``, when given, judges each output as it arrives; the first False ends the run
    with status ``"incorrect"``."""

    source: str
    entry_point: str
    calls: Sequence[Sequence[object]]
    allowed_modules: frozenset[str]
    check: Callable[[int, object], bool] | None = None


@dataclass(frozen=True)
class CallRecord:
    """One call, as the parent saw it: the interpreter's CPU seconds and the wall seconds from sending the
    request to receiving the whole reply, and the plain data it returned (lists for tuples)."""

    seconds: float
    output: object
    wall_seconds: float = 0.0


@dataclass(frozen=True)
class SandboxOutcome:
    """The result of a sandboxed run. ``calls`` holds the calls that returned, all of them only when
    ``status`` is ``"ok"`` (the last one is the wrong one when ``"incorrect"``); ``error`` says what went
    wrong otherwise, and ``line`` where in the submission if known (else 0). ``warning`` is set when the
    run had only the weak sandbox."""

    status: SandboxStatus
    calls: tuple[CallRecord, ...] = ()
    error: str = ""
    line: int = 0
    warning: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_in_sandbox(job: SandboxJob, limits: SandboxLimits = DEFAULT_LIMITS) -> SandboxOutcome:
    """Run ``job`` in a fresh sandboxed interpreter and return what happened; never raises because of the
    submission. Raises ``SandboxUnavailableError`` when the OS sandbox cannot be set up here (unless
    ``limits.allow_weak_sandbox``), ``SandboxError`` when the interpreter does not start at all."""
    process = launch_sandbox(job.allowed_modules, limits)
    try:
        outcome = _run(process, job)
    finally:
        process.close()
    if not process.weak:
        return outcome
    warnings.warn(WEAK_SANDBOX_WARNING, WeakSandboxWarning, stacklevel=2)
    return SandboxOutcome(outcome.status, outcome.calls, outcome.error, outcome.line, WEAK_SANDBOX_WARNING)


def _run(process: SandboxProcess, job: SandboxJob) -> SandboxOutcome:
    loaded = _exchange(process, program_request(job.source, job.entry_point), ("ready", "error"))
    if isinstance(loaded, Stopped):
        return SandboxOutcome(loaded.status, error=loaded.error)
    reply, _ = loaded
    if reply.status == "error":
        return SandboxOutcome("error", error=reply.error, line=reply.line)
    calls: list[CallRecord] = []
    for index, arguments in enumerate(job.calls):
        answer = _exchange(process, call_request(arguments), ("ok", "error"))
        if isinstance(answer, Stopped):
            return SandboxOutcome(answer.status, tuple(calls), answer.error)
        reply, timing = answer
        if reply.status == "error":
            return SandboxOutcome("error", tuple(calls), reply.error, reply.line)
        calls.append(CallRecord(timing.cpu_seconds, reply.output, timing.wall_seconds))
        if job.check is not None and not job.check(index, reply.output):
            return SandboxOutcome("incorrect", tuple(calls), f"call {index} returned a wrong result")
    return SandboxOutcome("ok", tuple(calls))


def _exchange(
    process: SandboxProcess, request: Request, statuses: tuple[str, ...]
) -> tuple[Reply, Answer] | Stopped:
    """The reply to ``request`` and the answer's timing, or why there is none: a reply that is malformed,
    of another status, or not for this request stops the run."""
    answer = process.request(request.line)
    if isinstance(answer, Stopped):
        return answer
    reply = parse_reply(answer.line)
    if reply is None or reply.status not in statuses:
        return Stopped("crashed", "the sandboxed process sent a malformed reply")
    if reply.id != request.id:
        return Stopped("crashed", "the sandboxed process sent a reply to a request it had not been sent")
    return reply, answer
