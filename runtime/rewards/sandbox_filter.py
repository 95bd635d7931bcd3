"""The system-call filters of the sandbox, built with libseccomp and exported as BPF programs.

Two programs, because bubblewrap installs its filters just before it executes the interpreter, and a filter
that forbade ``execve`` would stop that very exec:

- ``startup_filter()`` is handed to bubblewrap (``--add-seccomp-fd``) and holds from the interpreter's first
  instruction: no new processes or threads, no tracing or signalling, no mounts or namespaces, no sockets,
  no memory outside the limits (memfds, message queues, POSIX timers, grown pipes), no quotas of the host
  user (inotify), no kernel facilities that a computation has no use for (BPF, perf events, keyrings,
  io_uring, modules...).
- ``exec_filter()`` forbids ``execve``/``execveat``; the runner installs it itself once the interpreter has
  started, before any submitted code runs (the parent then checks the kernel's count of filters).

Forbidden calls fail with EPERM, so that Python raises a readable PermissionError; calls of another
architecture (32-bit ``int 0x80``) kill the process.
"""

from __future__ import annotations

import errno
import functools
import os

from runtime.rewards.errors import SandboxUnavailableError

PROCESSES = ("fork", "vfork", "clone", "clone3")
OTHER_PROCESSES = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
)
MOUNTS_AND_NAMESPACES = (
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr", "name_to_handle_at", "open_by_handle_at",
)
NETWORK = ("socket", "socketpair")
UNCOUNTED_MEMORY = ("memfd_create", "memfd_secret", "msgget", "mq_open", "timer_create", "inotify_init",
                    "inotify_init1")
"""Memory outside the address-space limit and the private tmpfs, and quotas the kernel counts for the host
user, shared by every process it runs: memfds (64 open ones of the largest file size would hold another
gigabyte), message queues (System V's hold half a gigabyte per IPC namespace), POSIX timers (each holds a
queued signal: as many as the host's RLIMIT_SIGPENDING, which grows with its memory, and every one the
user's) and inotify watches (a few instances watching the standard library take all of the user's)."""
KERNEL_FACILITIES = (
    "bpf", "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key", "personality",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct", "quotactl",
    "quotactl_fd", "syslog", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
    "setdomainname", "iopl", "ioperm", "modify_ldt", "uselib", "vhangup", "lookup_dcookie", "nfsservctl",
    "io_setup",  # one call takes every asynchronous I/O context of the host (fs.aio-max-nr) for the run
)
EXEC = ("execve", "execveat")
MEMORY_PROTECTION = ("mmap", "mprotect", "pkey_mprotect")  # their third argument is the protection
NEW_CODE = ("shmat",)
"""Other ways to executable memory: System V shared memory attached with ``SHM_EXEC``."""
PROT_EXEC = 0x4
TIOCSTI = 0x5412
"""ioctl pushing bytes into a terminal's input (refused too, though the sandbox has no terminal)."""
F_SETPIPE_SZ = 1031
"""fcntl growing a pipe's buffer (to the host's pipe-max-size): each pipe then holds a megabyte outside the
memory limit, out of the host user's pipe quota; at the default size the open-files limit keeps them small."""
STARTUP_ARGUMENT_RULES = (("ioctl", TIOCSTI), ("fcntl", F_SETPIPE_SZ))
"""Calls refused from start-up when their second argument (the request) is the one named."""


@functools.cache
def startup_filter() -> bytes:
    """BPF program of everything the sandbox forbids except exec."""
    syscalls = PROCESSES + OTHER_PROCESSES + MOUNTS_AND_NAMESPACES + NETWORK + UNCOUNTED_MEMORY + KERNEL_FACILITIES
    return _program(syscalls, argument_rules=STARTUP_ARGUMENT_RULES)


@functools.cache
def exec_filter() -> bytes:
    """BPF program that forbids executing another program, and mapping or making memory executable (System V
    shared memory is not attached at all: ``shmat`` with ``SHM_EXEC`` maps a writable segment executable):
    once the interpreter and the task's modules are loaded, no new native code can enter the process (no
    `dlopen` of a BLAS found on the host through ctypes, no machine code written into a page), whatever
    Python it runs."""
    return _program(EXEC, argument_rules=(), refuse_new_code=True)


def _program(
    syscalls: tuple[str, ...], argument_rules: tuple[tuple[str, int], ...], refuse_new_code: bool = False
) -> bytes:
    seccomp = _libseccomp()
    refuse = seccomp.ERRNO(errno.EPERM)
    syscall_filter = seccomp.SyscallFilter(seccomp.ALLOW)
    syscall_filter.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    for name in syscalls:
        if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) != -1:  # not every call exists everywhere
            syscall_filter.add_rule(refuse, name)
    for name, request in argument_rules:
        syscall_filter.add_rule(refuse, name, seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, request))
    if refuse_new_code:
        for name in NEW_CODE:
            syscall_filter.add_rule(refuse, name)
        for name in MEMORY_PROTECTION:
            syscall_filter.add_rule(refuse, name, seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
    memory_file = os.memfd_create("seccomp-filter")
    try:
        with open(memory_file, "wb", closefd=False) as exported:
            syscall_filter.export_bpf(exported)
        return os.pread(memory_file, 1 << 20, 0)
    finally:
        os.close(memory_file)


def _libseccomp():
    try:
        import pyseccomp
    except (ImportError, OSError, AttributeError) as error:  # the binding, or the C library it loads
        raise SandboxUnavailableError(
            f"cannot load libseccomp ({error}); install it: pip install pyseccomp, "
            "apt-get install libseccomp2"
        ) from error
    return pyseccomp
