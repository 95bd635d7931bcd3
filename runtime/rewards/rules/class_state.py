"""Rule: class bodies hold only methods and immutable attributes."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import QualifiedNameProvider

from runtime.rewards.immutable_values import is_immutable_value
from runtime.rewards.lint_rule import LintRule, source_of

_ALLOWED_IN_CLASS_BODY = (cst.FunctionDef, cst.ClassDef, cst.SimpleStatementLine)


class ClassState(LintRule):
    """A class lives as long as the module, so its attributes are shared by every call: a class body
    may hold methods, docstrings and attributes bound to immutable values, nothing else (no
    ``cache = {}`` class-attribute caches). Metaclasses and classes derived from ``type`` are rejected
    too, because they can attach state to classes when these are created."""

    name = "class-state"
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)
    VALID = (
        'class Matrix:\n    """Rows of floats."""\n    SIZE = 2\n    __slots__ = ("rows",)\n'
        "    def __init__(self, rows):\n        self.rows = rows",
        "class Empty:\n    pass",
    )
    INVALID = (
        "class Memo:\n    table = {}",
        "class Memo:\n    table: dict = dict()",
        "class Meta(type):\n    pass",
        "class Cached(metaclass=Registry):\n    pass",
        "class Counter:\n    for i in range(3):\n        pass",
        "class Log:\n    entries = []\n    entries.append(1)",
    )

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        for keyword in node.keywords:
            self.report(keyword, f"class keyword `{source_of(keyword)}` (a metaclass) can attach state to "
                                 "classes; use a plain class")
        for base in node.bases:
            if any(name.name == "builtins.type" for name in self._qualified_names(base.value)):
                self.report(base, "a class derived from `type` is a metaclass, which can attach state to classes; "
                                  "use a plain class")
        for statement in node.body.body:
            self._check_statement(statement)

    def _check_statement(self, statement: cst.BaseStatement) -> None:
        if not isinstance(statement, _ALLOWED_IN_CLASS_BODY):
            self.report(statement, "a class body may only hold methods, a docstring and immutable attributes")
            return
        if not isinstance(statement, cst.SimpleStatementLine):
            return
        for small in statement.body:
            if isinstance(small, cst.Pass) or (
                isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString, cst.Ellipsis))
            ):
                continue
            if isinstance(small, (cst.Assign, cst.AnnAssign, cst.AugAssign)) and (
                small.value is None or is_immutable_value(small.value, self._qualified_names)
            ):
                continue
            self.report(small, f"class-body statement `{source_of(small)}` keeps state shared by every call "
                               "(a class-attribute cache); bind class attributes only to immutable values")

    def _qualified_names(self, node: cst.CSTNode):
        return self.get_metadata(QualifiedNameProvider, node, set())
