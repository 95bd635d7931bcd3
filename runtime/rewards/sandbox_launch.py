"""Start one sandboxed interpreter running ``sandbox_runner``, and wait until it has armed itself.

In the OS sandbox (``sandbox_command``: bubblewrap, namespaces, ``nobody``, seccomp) whenever it can be set
up here; otherwise, only when ``SandboxLimits.allow_weak_sandbox`` is set, in the weak sandbox: a plain
``python -I -S -B`` subprocess in a fresh temporary directory and its own session, with rlimits (no file
may be written, no process started) and an audit hook. Either way the parent starts the interpreter with an
empty environment, talks to it over two pipes, and reads bubblewrap's or Python's start-up errors from a
temporary file.
"""

from __future__ import annotations

import json
import math
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

from runtime.rewards.errors import SandboxError, SandboxUnavailableError
from runtime.rewards.sandbox_availability import os_sandbox
from runtime.rewards.sandbox_command import RUNNER_INSIDE, bwrap_command, sandbox_user
from runtime.rewards.sandbox_filter import exec_filter, startup_filter
from runtime.rewards.sandbox_interpreter import interpreter_view, needs_staging
from runtime.rewards.sandbox_limits import SandboxLimits
from runtime.rewards.sandbox_process import SandboxProcess, Stopped, wait_for
from runtime.rewards.sandbox_protocol import Reply, parse_reply

RUNNER = Path(__file__).with_name("sandbox_runner.py")
INTERPRETER_FLAGS = ("-I", "-S", "-B")
"""Isolated mode (no environment variables, no user site, script directory not on the path), no site
module, no bytecode written."""
SECCOMP_FILTERS = 2
"""Filters the interpreter must run under once armed: bubblewrap's and the runner's own (no exec)."""
INFO_BYTES = 1 << 16


def launch_sandbox(allowed_modules: Iterable[str], limits: SandboxLimits) -> SandboxProcess:
    """A sandboxed interpreter, armed and waiting for the code to load; the caller must ``close()`` it.

    Raises ``SandboxUnavailableError`` when the OS sandbox cannot be set up and the weak one is not
    allowed, ``SandboxError`` when the interpreter does not start (nothing untrusted has run by then)."""
    deadline = time.monotonic() + limits.wall_seconds
    try:
        bwrap = os_sandbox()
    except SandboxUnavailableError:
        if not limits.allow_weak_sandbox:
            raise
        process = _start_weak_sandbox(_setup(allowed_modules, limits, weak=True), limits, deadline)
    else:
        process = _start_os_sandbox(bwrap, _setup(allowed_modules, limits, weak=False), limits, deadline)
    try:
        _check_armed(process)
    except BaseException:
        process.close()
        raise
    return process


def _setup(allowed_modules: Iterable[str], limits: SandboxLimits, weak: bool) -> str:
    return json.dumps({
        "allowed_modules": sorted(allowed_modules),
        "limits": {"cpu_seconds": math.ceil(limits.cpu_seconds) + 1, "memory_bytes": limits.memory_bytes,
                   "file_bytes": 0 if weak else limits.scratch_bytes},
        "output_bytes": limits.output_bytes,
        "seccomp": "" if weak else exec_filter().hex(),
        "audit_hook": weak,
    })


def _start_os_sandbox(bwrap: str, setup: str, limits: SandboxLimits, deadline: float) -> SandboxProcess:
    user = sandbox_user()
    view = interpreter_view(staged=bool(user) and needs_staging())
    runner_fd = _memory_file("sandbox-runner", RUNNER.read_bytes())
    seccomp_fd = _memory_file("seccomp-filter", startup_filter())
    info_read, info_write = os.pipe()
    command = bwrap_command(bwrap, view, runner_fd=runner_fd, seccomp_fd=seccomp_fd, info_fd=info_write,
                            scratch_bytes=limits.scratch_bytes)
    try:
        try:
            process = _start(command + [*INTERPRETER_FLAGS, RUNNER_INSIDE, setup], limits, deadline,
                             weak=False, pass_fds=(runner_fd, seccomp_fd, info_write), cwd="/", **user)
        finally:
            for descriptor in (runner_fd, seccomp_fd, info_write):
                os.close(descriptor)
        try:
            pid = _child_pid(_read_to_end(info_read, deadline))
            if pid is None or _parent_pid(pid) != process.popen.pid:
                raise SandboxError(f"bubblewrap did not start the sandbox: "
                                   f"{process.startup_error() or 'no message'}; "
                                   f"check that this works: {bwrap} --unshare-all --ro-bind / / true")
            process.interpreter_pid, process.interpreter_pidfd = pid, os.pidfd_open(pid)
        except BaseException:
            process.close()
            raise
    finally:
        os.close(info_read)
    return process


def _start_weak_sandbox(setup: str, limits: SandboxLimits, deadline: float) -> SandboxProcess:
    workdir = tempfile.mkdtemp(prefix="reward-sandbox-")
    try:
        process = _start([sys.executable, *INTERPRETER_FLAGS, str(RUNNER), setup], limits, deadline,
                         weak=True, cwd=workdir, start_new_session=True)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    process.cleanup = lambda: shutil.rmtree(workdir, ignore_errors=True)
    return process


def _start(
    command: list[str], limits: SandboxLimits, deadline: float, weak: bool, **popen_arguments
) -> SandboxProcess:
    requests_read, requests_write = os.pipe()
    replies_read, replies_write = os.pipe()
    stderr = tempfile.TemporaryFile()
    try:
        popen = subprocess.Popen(command, stdin=requests_read, stdout=replies_write, stderr=stderr, env={},
                                 close_fds=True, **popen_arguments)
    except OSError as error:
        for descriptor in (requests_read, requests_write, replies_read, replies_write):
            os.close(descriptor)
        stderr.close()
        raise SandboxError(f"cannot start the sandbox ({command[0]}): {error}; check that it is installed "
                           "and executable by the sandbox user") from error
    os.close(requests_read)
    os.close(replies_write)
    os.set_blocking(requests_write, False)
    return SandboxProcess(
        popen=popen, popen_pidfd=os.pidfd_open(popen.pid), interpreter_pid=popen.pid, interpreter_pidfd=None,
        requests=requests_write, replies=replies_read, stderr=stderr, limits=limits, deadline=deadline,
        weak=weak,
    )


def _check_armed(process: SandboxProcess) -> None:
    reply = process.receive()
    if isinstance(reply, Stopped) or parse_reply(reply) != Reply("armed"):
        reason = reply.error if isinstance(reply, Stopped) else "it sent something else first"
        raise SandboxError(f"the sandboxed interpreter did not start ({reason}): "
                           f"{process.startup_error() or 'no message'}; "
                           "check the task's sandbox limits (memory_bytes, cpu_seconds)")
    if process.weak:
        return
    expected = (seccomp_filters("self") or 0) + SECCOMP_FILTERS  # on top of those it inherits from here
    installed = seccomp_filters(process.interpreter_pid)
    if installed is not None and installed < expected:
        raise SandboxError(f"the sandboxed interpreter runs under {installed} seccomp filters, not "
                           f"{expected}; check that the kernel supports seccomp filters")


def seccomp_filters(pid: int | str) -> int | None:
    """How many seccomp filters the kernel says process ``pid`` (or ``"self"``) runs under; None where it
    does not say (before Linux 5.9)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            count = next((line.split(":", 1)[1].strip() for line in status
                          if line.startswith("Seccomp_filters:")), "")
    except OSError:
        return 0
    return int(count) if count.isdigit() else None


def _memory_file(name: str, data: bytes) -> int:
    descriptor = os.memfd_create(name)
    os.write(descriptor, data)
    os.lseek(descriptor, 0, os.SEEK_SET)
    return descriptor


def _read_to_end(descriptor: int, deadline: float) -> bytes:
    chunks: list[bytes] = []
    while sum(map(len, chunks)) < INFO_BYTES and time.monotonic() < deadline:
        if not wait_for(descriptor, select.POLLIN, deadline):
            break
        chunk = os.read(descriptor, INFO_BYTES)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _child_pid(info: bytes) -> int | None:
    try:
        pid = json.loads(info).get("child-pid")
    except (ValueError, AttributeError):
        return None
    return pid if type(pid) is int and pid > 0 else None


def _parent_pid(pid: int) -> int | None:
    """``pid``'s parent, from /proc (the field after the parenthesised command name)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None
