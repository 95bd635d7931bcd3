"""The bubblewrap command line of the OS sandbox, and the host user it runs as.

bubblewrap gives the interpreter its own user, pid, mount, network, ipc, uts (and, where possible, cgroup)
namespaces; it is pid 1 of its pid namespace (``--as-pid-1``: no other process to reap, and when it dies
the kernel ends the namespace), in a new session, killed when bubblewrap dies (``--die-with-parent``). Its
root is an empty tmpfs, made read-only once mounted, holding ``InterpreterView``'s read-only mounts, a
minimal /dev (read-only too: bubblewrap makes it a tmpfs as large as half the host's memory, where files
would hold memory outside every limit; and without terminals, whose number the host shares out), the runner
script, and one private size-limited tmpfs at /tmp that is also its working directory. There is no /proc,
no /etc, no network but an unconfigured loopback. The seccomp program from ``startup_filter`` holds from the
interpreter's first instruction.

When the parent is root, bubblewrap itself runs as ``nobody`` with no supplementary groups, so that
whatever the sandboxed code does, even outside its namespaces, it does as a user who owns nothing.
"""

from __future__ import annotations

import os
import pwd

from runtime.rewards.sandbox_interpreter import InterpreterView

BWRAP = "bwrap"
"""Name (or path) of the bubblewrap executable."""
SANDBOX_USER = "nobody"
"""Host user of the sandbox when the parent is root."""
RUNNER_INSIDE = "/sandbox/runner.py"
"""Where the runner script appears in the sandbox."""
SCRATCH_INSIDE = "/tmp"
"""The private tmpfs: working directory and /tmp."""


def sandbox_user() -> dict[str, object]:
    """``subprocess.Popen`` arguments that start bubblewrap as the sandbox's host user: ``nobody`` when
    this process is root, this process's own user otherwise."""
    if os.geteuid() != 0:
        return {}
    try:
        nobody = pwd.getpwnam(SANDBOX_USER)
        uid, gid = nobody.pw_uid, nobody.pw_gid
    except KeyError:  # no such entry in the password database: the conventional numbers
        uid = gid = 65534
    return {"user": uid, "group": gid, "extra_groups": []}


def bwrap_command(
    bwrap: str, view: InterpreterView, *, runner_fd: int, seccomp_fd: int, info_fd: int, scratch_bytes: int
) -> list[str]:
    """The bubblewrap command line up to the interpreter's own arguments. ``runner_fd`` holds the runner
    script, ``seccomp_fd`` the BPF program, and bubblewrap writes its JSON information (``child-pid``: the
    interpreter's pid on the host) to ``info_fd``."""
    command = [bwrap, "--unshare-all", "--as-pid-1", "--die-with-parent", "--new-session", "--dev", "/dev",
               "--tmpfs", "/dev/pts", "--remount-ro", "/dev/pts", "--remount-ro", "/dev"]
    for target, path in view.links:
        command += ["--symlink", target, path]
    for source, path in view.binds:
        command += ["--ro-bind", source, path]
    for path in view.hidden:
        command += ["--tmpfs", path, "--remount-ro", path]
    command += [
        "--ro-bind-data", str(runner_fd), RUNNER_INSIDE,
        "--size", str(scratch_bytes), "--tmpfs", SCRATCH_INSIDE, "--chdir", SCRATCH_INSIDE,
        "--remount-ro", "/",
        "--info-fd", str(info_fd), "--add-seccomp-fd", str(seccomp_fd),
        "--", view.executable,
    ]
    return command
