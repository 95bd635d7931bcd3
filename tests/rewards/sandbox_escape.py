"""Submissions that escape Python's own restrictions first, as the held-out review's programs did, so that
the tests exercise the operating system's walls and the parent's, not the restricted builtins."""

from __future__ import annotations

import textwrap

ESCAPE = '''\
import typing


def escape(source):
    """Run ``source`` with the real builtins (a forward reference is evaluated in typing's own namespace,
    whose builtins are the real ones) and return the names it defined."""
    namespace = {"SOURCE": source}
    typing.ForwardRef("exec(SOURCE)")._evaluate(namespace, None, frozenset())
    return namespace
'''


def escaping(*payload: str) -> str:
    """Source of a submission whose ``f(*arguments)`` returns ``escaped(*arguments)``, where ``escaped`` is
    defined by the ``payload`` parts (module-level code, each dedented on its own, joined) run with the real
    builtins and imports."""
    source = "\n".join(textwrap.dedent(part) for part in payload)
    return (ESCAPE + f"\nescaped = escape({source!r})['escaped']\n\n"
            "def f(*arguments):\n    return escaped(*arguments)\n")
