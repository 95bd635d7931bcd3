"""Rule: no memoisation, by decorator or otherwise."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import QualifiedNameProvider

from runtime.rewards.lint_rule import LintRule, source_of

MEMOISERS = frozenset({
    "functools.lru_cache", "functools.cache", "functools.cached_property",
    "functools.update_wrapper", "functools.wraps",
})
"""functools entry points that keep results, or copy attributes (state) onto functions."""

SAFE_DECORATORS = frozenset({
    "builtins.staticmethod", "builtins.classmethod", "builtins.property", "typing.overload", "typing.final",
})


class MemoisingDecorator(LintRule):
    """Memoising (``functools.lru_cache``, ``cache``, ``cached_property``, however imported or called)
    returns remembered results instead of computing them. Any decorator outside a short safe list is
    rejected as well: a decorator runs once at import and can wrap the function in a cache."""

    name = "memoising-decorator"
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)
    VALID = (
        "class Matrix:\n    @staticmethod\n    def zeros(n):\n        return [[0.0] * n for _ in range(n)]",
        "class Matrix:\n    @property\n    def size(self):\n        return 2",
        "from functools import reduce\ntotal = reduce(lambda a, b: a + b, (1, 2, 3))",
    )
    INVALID = (
        "import functools\n@functools.lru_cache(maxsize=None)\ndef f(a):\n    return a",
        "from functools import cache as remember\n@remember\ndef f(a):\n    return a",
        "import functools\ndef f(a):\n    return a\nfast = functools.lru_cache(None)(f)",
        "def memo(function):\n    return function\n@memo\ndef f(a):\n    return a",
        "import functools\nclass M:\n    @functools.cached_property\n    def rows(self):\n        return []",
        "import functools\ndef f():\n    pass\nfunctools.update_wrapper(f, object())",
    )

    def visit_Decorator(self, node: cst.Decorator) -> None:
        callee = node.decorator.func if isinstance(node.decorator, cst.Call) else node.decorator
        names = self._qualified_names(callee)
        if not names & (SAFE_DECORATORS | MEMOISERS):
            self.report(node, f"decorator `@{source_of(node.decorator)}` runs once at import and can wrap the "
                              "function in a cache; only staticmethod, classmethod, property, typing.overload "
                              "and typing.final are allowed")

    def visit_Name(self, node: cst.Name) -> None:
        self._check_memoiser(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._check_memoiser(node)

    def _check_memoiser(self, node: cst.BaseExpression) -> None:
        for name in sorted(self._qualified_names(node) & MEMOISERS):
            self.report(node, f"`{name}` remembers results or attaches state to functions; compute every call afresh")

    def _qualified_names(self, node: cst.CSTNode) -> set[str]:
        return {name.name for name in self.get_metadata(QualifiedNameProvider, node, set())}
