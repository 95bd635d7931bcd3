"""Rule: no global or nonlocal writes."""

from __future__ import annotations

import libcst as cst

from runtime.rewards.lint_rule import LintRule, source_of


class GlobalStatement(LintRule):
    """``global`` and ``nonlocal`` exist to write names of an outer scope, which is how counters and
    caches outlive a call; return values instead."""

    name = "global-statement"
    VALID = (
        "def f(a):\n    total = 0\n    for x in a:\n        total += x\n    return total",
    )
    INVALID = (
        "CALLS = 0\ndef f():\n    global CALLS\n    CALLS += 1",
        "def outer():\n    n = 0\n    def inner():\n        nonlocal n\n        n += 1\n    return inner",
    )

    def visit_Global(self, node: cst.Global) -> None:
        self.report(node, f"`{source_of(node)}` writes module state that outlives the call; return values instead")

    def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
        self.report(node, f"`{source_of(node)}` writes an enclosing scope's state (a closure cache); "
                          "return values instead")
