"""Run submitted code in a separate, resource-limited, isolated interpreter; never in this process.

The parent side: writes the job into a fresh temporary directory, starts ``sandbox_runner.py`` under
``sys.executable -I -S -B`` in its own session (process group) with an empty environment and stdin
closed, reads at most ``limits.output_bytes`` of its stdout until ``limits.wall_seconds`` have passed,
then kills the whole process group with SIGKILL whatever happened (a child that ignores SIGTERM, or
left descendants behind, is stopped all the same). See ``sandbox_runner`` for what happens inside.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runtime.rewards.errors import SandboxError

RUNNER = Path(__file__).with_name("sandbox_runner.py")

SandboxStatus = Literal["ok", "error", "timeout", "crashed"]


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed run may use. CPU time and memory are enforced by the kernel (rlimits), wall
    time and output size by the parent."""

    wall_seconds: float = 10.0
    cpu_seconds: float = 10.0
    memory_bytes: int = 1 << 30
    output_bytes: int = 16 << 20


@dataclass(frozen=True)
class SandboxJob:
    """Run ``source``, then call its ``entry_point`` once per element of ``calls`` (each a sequence of
    positional arguments made of JSON-compatible plain data, decoded afresh for every call)."""

    source: str
    entry_point: str
    calls: Sequence[Sequence[object]]
    allowed_modules: frozenset[str]
    cache_wipe_bytes: int = 16 << 20


@dataclass(frozen=True)
class CallRecord:
    """One call: how long it took inside the sandbox and what it returned, as plain JSON data."""

    seconds: float
    output: object


@dataclass(frozen=True)
class SandboxOutcome:
    """The result of a sandboxed run. ``calls`` is complete only when ``status`` is ``"ok"``;
    ``error`` says what went wrong otherwise, and ``line`` where in the submission if known (else 0)."""

    status: SandboxStatus
    calls: tuple[CallRecord, ...] = ()
    error: str = ""
    line: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_in_sandbox(job: SandboxJob, limits: SandboxLimits = SandboxLimits()) -> SandboxOutcome:
    """Run ``job`` in a fresh sandboxed interpreter and return what happened; never raises because of
    the submission. Raises ``SandboxError`` only when the interpreter cannot be started at all."""
    nonce = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="reward-sandbox-") as workdir:
        job_path = Path(workdir, "job.json")
        job_path.write_text(json.dumps(_job_document(job, limits, nonce)), encoding="utf-8")
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", str(RUNNER), job_path.name],
                cwd=workdir, env={}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True,
            )
        except OSError as error:
            raise SandboxError(f"cannot start the sandbox interpreter {sys.executable!r}: {error}; "
                               "check that Python can be executed from this process") from error
        try:
            output, stopped_because = _read_output(process, limits)
        finally:
            _kill_process_group(process)
    if stopped_because is not None:
        return SandboxOutcome(stopped_because[0], error=stopped_because[1])
    return _parse_report(output, nonce, process.returncode)


def _job_document(job: SandboxJob, limits: SandboxLimits, nonce: str) -> dict:
    return {
        "nonce": nonce,
        "source": job.source,
        "entry_point": job.entry_point,
        "calls": [json.dumps(list(arguments)) for arguments in job.calls],
        "allowed_modules": sorted(job.allowed_modules),
        "cache_wipe_bytes": job.cache_wipe_bytes,
        "limits": {"cpu_seconds": max(1, math.ceil(limits.cpu_seconds)), "memory_bytes": limits.memory_bytes},
    }


def _read_output(
    process: subprocess.Popen, limits: SandboxLimits
) -> tuple[bytes, tuple[SandboxStatus, str] | None]:
    """Stdout of ``process`` up to its exit, or the reason it had to be stopped early."""
    deadline = time.monotonic() + limits.wall_seconds
    chunks, size = [], 0
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return b"", ("timeout", f"stopped after the wall-clock limit of {limits.wall_seconds} s")
            if not selector.select(remaining):
                continue
            chunk = os.read(process.stdout.fileno(), 1 << 16)
            if not chunk:
                break
            size += len(chunk)
            if size > limits.output_bytes:
                return b"", ("crashed", f"stopped after writing more than {limits.output_bytes} bytes")
            chunks.append(chunk)
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return b"", ("timeout", f"stopped after the wall-clock limit of {limits.wall_seconds} s")
    return b"".join(chunks), None


def _kill_process_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.stdout.close()
    process.wait()


def _parse_report(output: bytes, nonce: str, returncode: int) -> SandboxOutcome:
    lines = output.decode("utf-8", errors="replace").strip().splitlines()
    try:
        report = json.loads(lines[-1]) if lines else None
    except ValueError:  # not JSON, or numbers beyond what Python will parse
        report = None
    if not isinstance(report, dict) or report.get("nonce") != nonce:
        if returncode == -signal.SIGXCPU:
            return SandboxOutcome("timeout", error="stopped by the CPU-time limit")
        return SandboxOutcome("crashed", error=_death_description(returncode))
    if report.get("status") != "ok":
        return SandboxOutcome("error", error=str(report.get("error", "")), line=int(report.get("line") or 0))
    calls = tuple(CallRecord(float(call["seconds"]), call["output"]) for call in report["calls"])
    return SandboxOutcome("ok", calls=calls)


def _death_description(returncode: int) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        return f"the sandboxed process was killed by {name} (a resource limit) before reporting"
    return f"the sandboxed process exited with status {returncode} before reporting"
