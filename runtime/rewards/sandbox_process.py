"""A running sandboxed interpreter, seen from the trusted parent: talk to it within the wall-clock and
CPU-time limits, time each call from outside, and kill everything at the end.

Each call is timed by the parent alone: the interpreter's CPU time as the kernel counts it (its process CPU
clock, read with ``clock_gettime``) and the wall time, both from just before the request is sent to just
after the whole reply has arrived. The interpreter only ever holds the arguments of the call in flight.
The parent also enforces the CPU-time limit by that clock: the kernel's own limit (RLIMIT_CPU, set by the
runner a second above) is only a backstop, since the interpreter is pid 1 of its namespace and the kernel
does not deliver SIGXCPU to a namespace's init.
``launch_sandbox`` (``runtime.rewards.sandbox_launch``) starts one.
"""

from __future__ import annotations

import math
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Literal

from runtime.rewards.sandbox_limits import SandboxLimits

EXIT_GRACE_SECONDS = 1.0
"""How long to wait for the exit status once the interpreter has closed its reply pipe."""
READ_CHUNK_BYTES = 1 << 16
SIGNAL_CAUSES = {
    signal.SIGKILL: "the kernel's CPU-time backstop, or the out-of-memory killer",
    signal.SIGSYS: "a system call of another architecture, which the seccomp filter kills for",
    signal.SIGSEGV: "a crash of the interpreter",
}
CPU_CHECK_SECONDS = 0.05
"""How often the parent looks at the interpreter's CPU clock while it waits for a reply."""


@dataclass(frozen=True)
class Stopped:
    """Why no reply came: the limits were reached, or the interpreter ended or misbehaved."""

    status: Literal["timeout", "crashed"]
    error: str


@dataclass(frozen=True)
class Answer:
    """A reply line of the interpreter (not yet parsed), and how long the call took, by the parent's clock."""

    line: bytes
    cpu_seconds: float
    wall_seconds: float


@dataclass
class SandboxProcess:
    """The parent's end of one sandboxed interpreter. ``popen`` is bubblewrap (or, in the weak sandbox, the
    interpreter itself); ``interpreter_pid`` is the interpreter's host pid, ``interpreter_pidfd`` pins it
    for the final kill (None in the weak sandbox, whose process group is killed instead)."""

    popen: subprocess.Popen
    popen_pidfd: int
    interpreter_pid: int
    interpreter_pidfd: int | None
    requests: int
    replies: int
    stderr: IO[bytes]
    limits: SandboxLimits
    deadline: float
    weak: bool
    cleanup: Callable[[], None] = lambda: None
    _buffer: bytearray = field(default_factory=bytearray)
    _received: int = 0

    def receive(self) -> bytes | Stopped:
        """The next reply line, without its newline. Each byte is searched for the newline once, however
        finely the interpreter splits its writes."""
        searched = 0
        while True:
            newline = self._buffer.find(b"\n", searched)
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[:newline + 1]
                return line
            searched = len(self._buffer)
            next_look = min(self.deadline, time.monotonic() + CPU_CHECK_SECONDS)
            if not wait_for(self.replies, select.POLLIN, next_look):
                if time.monotonic() >= self.deadline:
                    return self._wall_clock_limit()
                if (self._cpu_seconds() or 0.0) >= self.limits.cpu_seconds:
                    return Stopped("timeout", f"stopped at the CPU-time limit of {self.limits.cpu_seconds} s")
                continue
            chunk = os.read(self.replies, READ_CHUNK_BYTES)
            if not chunk:
                return self.ended()
            self._received += len(chunk)
            if self._received > self.limits.output_bytes:
                return Stopped("crashed", f"stopped after sending more than {self.limits.output_bytes} bytes")
            self._buffer += chunk

    def request(self, line: bytes) -> Answer | Stopped:
        """Send one request and wait for its reply, timing the interpreter from outside. Refused when the
        interpreter has sent something it was not asked for."""
        unsolicited = self._unsolicited()
        if unsolicited is not None:
            return unsolicited
        cpu_before, wall_before = self._cpu_seconds(), time.monotonic()
        if cpu_before is None:
            return self.ended()
        stopped = self._send(line)
        reply = stopped or self.receive()
        wall_seconds, cpu_after = time.monotonic() - wall_before, self._cpu_seconds()
        if not isinstance(reply, bytes):
            return reply
        if cpu_after is None:
            return self.ended()
        return Answer(reply, cpu_after - cpu_before, wall_seconds)

    def startup_error(self, limit: int = 500) -> str:
        """The last line bubblewrap or the interpreter wrote to stderr (the runner points it at /dev/null
        before any submitted code runs): why it failed to start, "" when it said nothing."""
        self.stderr.seek(0)
        lines = self.stderr.read().decode("utf-8", errors="replace").strip().splitlines()
        return lines[-1][:limit] if lines else ""

    def ended(self) -> Stopped:
        """Why the interpreter is gone, from its exit status (left unreaped, so its pid stays ours)."""
        if not wait_for(self.popen_pidfd, select.POLLIN, time.monotonic() + EXIT_GRACE_SECONDS):
            return Stopped("crashed", "the sandboxed process closed its reply pipe")
        status = os.waitid(os.P_PID, self.popen.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        if status is None:
            return Stopped("crashed", "the sandboxed process ended")
        killed_by = status.si_status if status.si_code in (os.CLD_KILLED, os.CLD_DUMPED) else None
        if not self.weak and status.si_code == os.CLD_EXITED and status.si_status > 128:
            killed_by = status.si_status - 128  # bubblewrap reports the interpreter's death as 128 + signal
        if killed_by is not None:
            cause = f" ({SIGNAL_CAUSES[killed_by]})" if killed_by in SIGNAL_CAUSES else ""
            return Stopped("crashed", f"the sandboxed process was killed by {signal_name(killed_by)}{cause} "
                                      "before replying")
        return Stopped("crashed", f"the sandboxed process exited with status {status.si_status} "
                                  "before replying")

    def close(self) -> None:
        """Kill the interpreter and everything it might have started, reap, and release every resource."""
        if self.interpreter_pidfd is not None:
            _kill_pidfd(self.interpreter_pidfd)  # pid 1 of its namespace: the kernel ends all the rest first
        if self.weak:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)  # unreaped until now, so the group is still ours
            except ProcessLookupError:
                pass
        try:  # bubblewrap reaps the interpreter, then exits
            self.popen.wait(EXIT_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        for descriptor in (self.interpreter_pidfd, self.popen_pidfd, self.requests, self.replies):
            if descriptor is not None:
                os.close(descriptor)
        self.stderr.close()
        self.cleanup()

    def _send(self, line: bytes) -> Stopped | None:
        pending = memoryview(line)
        while pending:
            if not wait_for(self.requests, select.POLLOUT, self.deadline):
                return self._wall_clock_limit()
            try:
                pending = pending[os.write(self.requests, pending):]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                return self.ended()
        return None

    def _unsolicited(self) -> Stopped | None:
        if not self._buffer and not wait_for(self.replies, select.POLLIN, time.monotonic()):
            return None
        if not self._buffer and not os.read(self.replies, 1):
            return self.ended()
        return Stopped("crashed", "the sandboxed process sent a reply that was not asked for")

    def _cpu_seconds(self) -> float | None:
        try:
            return time.clock_gettime_ns(process_cpu_clock(self.interpreter_pid)) / 1e9
        except OSError:  # the process is gone
            return None

    def _wall_clock_limit(self) -> Stopped:
        return Stopped("timeout", f"stopped after the wall-clock limit of {self.limits.wall_seconds} s")


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9, ``signal 35`` for a number without a name (real-time signals have none but the
    first and the last, and an interpreter can exit with any status bubblewrap reports as 128 + signal)."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def process_cpu_clock(pid: int) -> int:
    """The clock id of process ``pid``'s CPU time (what glibc's ``clock_getcpuclockid`` returns: the
    kernel's ``MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED)``)."""
    return (~pid << 3) | 2


def wait_for(descriptor: int, event: int, deadline: float) -> bool:
    """Whether ``descriptor`` is ready for ``event`` (or hung up) before ``deadline``."""
    poller = select.poll()
    poller.register(descriptor, event)
    return bool(poller.poll(max(0, math.ceil((deadline - time.monotonic()) * 1000))))


def _kill_pidfd(pidfd: int) -> None:
    try:
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    except ProcessLookupError:
        pass
