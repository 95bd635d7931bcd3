"""Honest speed: time the submission and the reference the same way, in the same kind of sandbox.

Each benchmark call runs on fresh random inputs, sent to the sandbox only when the previous call has
returned and decoded afresh there, and is timed by the parent from outside: the sandboxed interpreter's CPU
time, as the kernel counts it, from sending the request to receiving the whole reply. Speed is the ratio of
the reference's median time to the submission's.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from runtime.rewards.coding_task import Arguments, CodingTask
from runtime.rewards.errors import SandboxError
from runtime.rewards.sandbox import SandboxJob, run_in_sandbox

SHORTEST_MEASURABLE_SECONDS = 1e-9
"""Floor on a median time, so that a ratio is always defined."""


def reference_seconds(task: CodingTask, cases: Sequence[Arguments]) -> list[float]:
    """Seconds the task's reference takes on each of ``cases``, measured in the sandbox.

    Raises ``SandboxError`` when the reference fails: the task is misconfigured."""
    reference = task.reference
    outcome = run_in_sandbox(
        SandboxJob(task.reference_source, reference.__name__, cases, task.allowed_modules), task.limits
    )
    if not outcome.ok:
        raise SandboxError(f"the reference {reference.__name__} of task {task.name!r} failed in the sandbox "
                           f"({outcome.status}: {outcome.error}); make the reference self-contained and check "
                           "the task's sandbox limits")
    return [call.seconds for call in outcome.calls]


def speedup(reference: Sequence[float], submission: Sequence[float]) -> float:
    """How many times faster the submission is than the reference, by median times (> 1 is faster)."""
    return max(statistics.median(reference), SHORTEST_MEASURABLE_SECONDS) / max(
        statistics.median(submission), SHORTEST_MEASURABLE_SECONDS
    )
