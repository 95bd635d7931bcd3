"""Rule: no classes that can fool the correctness check."""

from __future__ import annotations

import libcst as cst

from runtime.rewards.lint_rule import LintRule

SPOOFING_METHODS = frozenset({
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__bool__",
    "__float__", "__int__", "__index__", "__complex__", "__instancecheck__", "__subclasscheck__",
})
"""Special methods through which an object could pass for the right answer (``__eq__`` returning True)."""


class ComparisonOverride(LintRule):
    """A class that overrides comparison, truth, hashing or numeric conversion could compare equal to
    the expected matrix without being it. Return plain lists of floats."""

    name = "comparison-override"
    VALID = (
        "class Matrix:\n    def __init__(self, rows):\n        self.rows = rows\n"
        "    def __matmul__(self, other):\n        return Matrix(self.rows)",
        "def __eq__(a, b):\n    return a == b",
    )
    INVALID = (
        "class AlwaysEqual(list):\n    def __eq__(self, other):\n        return True",
        "class Close(float):\n    __eq__ = lambda self, other: True",
        "class Fake:\n    def __float__(self):\n        return 0.0",
        "class Truthy:\n    def __bool__(self):\n        return True",
    )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        for statement in node.body.body:
            for name in _names_bound_by(statement):
                if name.value in SPOOFING_METHODS:
                    self.report(name, f"class `{node.name.value}` defines `{name.value}`, which could make a wrong "
                                      "result pass the correctness check; return plain lists of floats")


def _names_bound_by(statement: cst.BaseStatement) -> list[cst.Name]:
    """Names a class-body statement binds directly: a method name or simple assignment targets."""
    if isinstance(statement, cst.FunctionDef):
        return [statement.name]
    if not isinstance(statement, cst.SimpleStatementLine):
        return []
    names = []
    for small in statement.body:
        targets = [target.target for target in small.targets] if isinstance(small, cst.Assign) else []
        if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
            targets = [small.target]
        names.extend(target for target in targets if isinstance(target, cst.Name))
    return names
