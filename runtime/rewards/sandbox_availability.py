"""Can the OS sandbox be set up here? Found out by trying, once per process.

The probe runs bubblewrap as the sandbox does (as the sandbox's host user, with every namespace and the
options that older versions lack) around a do-nothing program, and builds the seccomp programs. What fails
becomes a ``SandboxUnavailableError`` whose message says what to install or enable.
"""

from __future__ import annotations

import functools
import shutil
import subprocess

from runtime.rewards import sandbox_command
from runtime.rewards.errors import SandboxUnavailableError
from runtime.rewards.sandbox_command import sandbox_user
from runtime.rewards.sandbox_filter import exec_filter, startup_filter

PROBE_SECONDS = 10.0
MINIMUM_BWRAP = "0.7"
"""The first bubblewrap with every option the sandbox uses (``--size`` for a tmpfs)."""
WEAK_HINT = ("; or, knowing that a determined program escapes them, judge with the weak protections: "
             "reward-check --allow-weak-sandbox, or SandboxLimits(allow_weak_sandbox=True)")


def os_sandbox() -> str:
    """The bubblewrap executable to run the sandbox with. Raises ``SandboxUnavailableError`` when the
    sandbox cannot be set up on this machine."""
    bwrap, problem = _probe(sandbox_command.BWRAP)
    if problem:
        raise SandboxUnavailableError(f"the judge's OS sandbox cannot be set up: {problem}{WEAK_HINT}")
    return bwrap


@functools.cache
def _probe(bwrap_name: str) -> tuple[str, str]:
    """``(bwrap path, "")`` when the sandbox works, ``("", what is wrong and what to do)`` otherwise."""
    bwrap = shutil.which(bwrap_name)
    if bwrap is None:
        return "", f"bubblewrap ({bwrap_name!r}) is not installed: apt-get install bubblewrap"
    try:
        startup_filter(), exec_filter()
    except SandboxUnavailableError as error:
        return "", str(error)
    do_nothing = shutil.which("true") or "/bin/true"
    try:
        probe = subprocess.run(
            [bwrap, "--unshare-all", "--as-pid-1", "--die-with-parent", "--ro-bind", "/", "/",
             "--size", "1048576", "--tmpfs", "/tmp", do_nothing],
            env={}, cwd="/", stdin=subprocess.DEVNULL, capture_output=True, timeout=PROBE_SECONDS,
            **sandbox_user(),
        )
    except (OSError, subprocess.SubprocessError) as error:
        return "", f"cannot run {bwrap} ({error}); check that bubblewrap is installed and executable by all"
    said = probe.stderr.decode("utf-8", errors="replace").strip()
    if probe.returncode != 0 and "Unknown option" in said:
        return "", f"bubblewrap is too old ({said}): install bubblewrap {MINIMUM_BWRAP} or later"
    if probe.returncode != 0:
        return "", (f"bubblewrap cannot create the namespaces ({said or f'exit status {probe.returncode}'}); "
                    "enable unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1 "
                    "(Debian and Ubuntu kernels) and sysctl -w user.max_user_namespaces=10000 (where it is "
                    "0), and on Ubuntu 24.04 or later "
                    "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0")
    return bwrap, ""
