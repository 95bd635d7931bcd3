"""Rule: no dunder escapes."""

from __future__ import annotations

import re
from typing import ClassVar

import libcst as cst

from runtime.rewards.identifier_rule import ForbiddenIdentifierRule

_DUNDER = re.compile(r"__\w+__")


class DunderAccess(ForbiddenIdentifierRule):
    """Double-underscore names (``__class__``, ``__mro__``, ``__subclasses__``, ``__globals__``,
    ``__builtins__``, ``__code__``, ``__dict__`` ...) walk from any object to every other one. They are
    rejected as names, as attributes and inside string literals (``"{0.__class__}".format(x)``,
    ``getattr(x, "__dict__")``), docstrings excepted. Defining dunder methods is left to
    ``ComparisonOverride``; ``__name__``, ``__doc__``, ``__all__``, ``__slots__`` and ``__main__`` are
    harmless and allowed."""

    name = "dunder-access"
    HARMLESS: ClassVar[frozenset[str]] = frozenset({"__name__", "__doc__", "__all__", "__slots__", "__main__"})
    MESSAGE = "`{identifier}` reaches interpreter internals; use ordinary names and attributes"
    VALID = (
        'def f():\n    """Uses __class__ only in its docstring."""\n    return 1',
        "if __name__ == '__main__':\n    print(1)",
        "class Matrix:\n    def __init__(self, rows):\n        self.rows = rows",
        "from __future__ import annotations",
    )
    INVALID = (
        "subclasses = ().__class__.__base__.__subclasses__()",
        "g = f.__globals__",
        "b = __builtins__",
        "text = '{0.__class__}'.format(x)",
        "name = '__dict__'",
        "code = f.__code__",
        "super().__init__()",
    )

    def is_forbidden(self, identifier: str) -> bool:
        return any(dunder not in self.HARMLESS for dunder in _DUNDER.findall(identifier))

    def visit_Expr(self, node: cst.Expr) -> bool:
        # A statement that is only a string is a docstring (or a comment written as one): never run.
        return not isinstance(node.value, (cst.SimpleString, cst.ConcatenatedString))

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self._check_string(node.value, node)

    def visit_FormattedStringText(self, node: cst.FormattedStringText) -> None:
        self._check_string(node.value, node)

    def _check_string(self, text: str, node: cst.CSTNode) -> None:
        if self.is_forbidden(text):
            self.report(node, "string mentions a dunder name, which code can turn into an attribute "
                              "(format fields, getattr); leave interpreter internals alone")
