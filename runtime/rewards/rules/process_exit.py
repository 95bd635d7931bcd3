"""Rule: do not end or interrupt the process."""

from runtime.rewards.identifier_rule import ForbiddenIdentifierRule


class ProcessExit(ForbiddenIdentifierRule):
    """Exiting (``sys.exit``, ``os._exit``, ``exit()``) or raising ``SystemExit`` / ``KeyboardInterrupt``
    can end the harness before it records a failure. Ordinary exceptions such as ``ValueError`` are fine."""

    name = "process-exit"
    FORBIDDEN = frozenset({"exit", "quit", "_exit", "abort", "SystemExit", "KeyboardInterrupt", "GeneratorExit"})
    MESSAGE = "`{identifier}` ends or interrupts the process; raise an ordinary exception such as ValueError"
    VALID = (
        "def f(a):\n    if not a:\n        raise ValueError('empty matrix')\n    return a",
        "exit_code = 0",
    )
    INVALID = (
        "raise SystemExit(0)",
        "raise KeyboardInterrupt",
        "sys.exit(0)",
        "os._exit(0)",
        "exit()",
    )
