"""What one sandboxed run may use, and whether it may run without the OS sandbox."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one sandboxed run. CPU time, address space and file size are enforced by the kernel
    (rlimits, and the size of the private tmpfs); wall time and reply size by the parent, which then kills
    the whole sandbox."""

    wall_seconds: float = 10.0
    """Wall-clock time of the whole run: start-up, loading the code and every call."""
    cpu_seconds: float = 10.0
    """CPU time of the sandboxed interpreter over the whole run (rounded up to whole seconds)."""
    memory_bytes: int = 1 << 30
    """Address space of the sandboxed interpreter."""
    output_bytes: int = 16 << 20
    """Bytes the interpreter may send back over the whole run, all replies together."""
    scratch_bytes: int = 16 << 20
    """Size of the private tmpfs that is the interpreter's working directory and /tmp, and so the
    largest file it can write (the weak sandbox allows no file at all)."""
    allow_weak_sandbox: bool = False
    """Where the OS sandbox cannot be set up (no bubblewrap, no user namespaces), run with the weak
    protections (a plain subprocess with rlimits and an audit hook) and a warning, instead of raising
    ``SandboxUnavailableError``. Never do this for training: a determined program escapes them."""
