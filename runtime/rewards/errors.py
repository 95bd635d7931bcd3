"""Exceptions of the rewards package. Problems in *submitted* code never raise: they become verdicts."""

from rewrite.errors import RewriteError


class RewardsError(RewriteError):
    """Base class of every error raised by runtime.rewards (a `RewriteError`: the `rewrite` command reports it in
    one line)."""


class UnknownCodingTaskError(RewardsError):
    """A coding-task name that `CODING_TASKS` does not hold."""


class CodingTaskConfigError(RewardsError):
    """A coding task whose configuration cannot be honoured (for example an allowlisted module that is
    missing)."""


class SandboxError(RewardsError):
    """The sandbox itself failed (not the submission): the interpreter would not start, or the trusted
    reference implementation failed where it must succeed."""


class SandboxUnavailableError(SandboxError):
    """The OS sandbox cannot be set up on this machine (bubblewrap or libseccomp missing, user namespaces
    disabled); the message says what to install or enable."""
