"""Rule: module-level names hold only values that cannot change between calls."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ExpressionContext, ExpressionContextProvider, QualifiedNameProvider

from runtime.rewards.immutable_values import is_immutable_value
from runtime.rewards.lint_rule import LintRule, source_of

_MAIN_GUARD = m.If(
    test=m.Comparison(
        left=m.Name("__name__"),
        comparisons=[m.ComparisonTarget(
            operator=m.Equal(), comparator=m.SimpleString(value=m.MatchIfTrue(lambda text: text[1:-1] == "__main__"))
        )],
    ),
    orelse=None,
)


class ModuleState(LintRule):
    """Module-level code may bind names only to immutable values (numbers, strings, tuples of them,
    functions, classes, modules, results of pure calls such as ``math.sqrt(2)``). A list, dict or set,
    an iterator, or the result of calling your own code (a closure factory, a class instance) is state
    that outlives a call: a cache, a counter or a closure cache.

    Function and class bodies are left to other rules, and so is the block under
    ``if __name__ == "__main__":``, which the sandbox never runs (it names the module differently);
    rebinding ``__name__`` at module level is rejected so that the guard cannot be forced open."""

    name = "module-state"
    METADATA_DEPENDENCIES = (QualifiedNameProvider, ExpressionContextProvider)
    VALID = (
        "BLOCK = 16\nNAME = 'matmul'\nSHAPE = (2, 3)\nHALF = 1 / 2",
        "import math\nROOT_TWO = math.sqrt(2.0)\nDIGITS = frozenset([1, 2, 3])",
        "from typing import List\nMatrix = List[List[float]]",
        "def helper(x):\n    cache = {}\n    return cache",
        "if __name__ == '__main__':\n    A = [[1.0]]\n    print(A)",
        "for _ in range(3):\n    pass",
    )
    INVALID = (
        "_CACHE = {}",
        "RESULTS: list = []",
        "def make():\n    table = {}\n    def f(a):\n        return table.setdefault(a, a)\n    return f\nmatmul = make()",
        "import itertools\n_CALLS = itertools.count()",
        "class Memo:\n    pass\nMEMO = Memo()",
        "CACHE, OTHER = [], ()",
        "with context() as handle:\n    pass",
        "for cache in ([],):\n    pass",
        "print(cache := {})",
        "__name__ = '__main__'\nif __name__ == '__main__':\n    CACHE = {}",
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_If(self, node: cst.If) -> bool:
        return not m.matches(node, _MAIN_GUARD)

    def visit_Assign(self, node: cst.Assign) -> None:
        self._check_value(node, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._check_value(node, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._check_value(node, node.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._check_value(node, node.value)

    def visit_For(self, node: cst.For) -> None:
        if not self._is_immutable(node.iter):
            self.report(node, f"module-level loop over `{source_of(node.iter)}` binds names to values that "
                              "can change between calls; loop inside a function instead")

    def visit_With(self, node: cst.With) -> None:
        if any(item.asname is not None for item in node.items):
            self.report(node, "module-level `with ... as` binds a name to an object that can change between "
                              "calls; move it into a function")

    def visit_Match(self, node: cst.Match) -> None:
        self.report(node, "module-level `match` binds names to parts of its subject, which can change "
                          "between calls; move it into a function")

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "__name__" and self.get_metadata(ExpressionContextProvider, node, None) is ExpressionContext.STORE:
            self.report(node, "rebinding `__name__` would run the `if __name__ == '__main__':` block in the sandbox; "
                              "leave `__name__` alone")

    def _check_value(self, node: cst.CSTNode, value: cst.BaseExpression) -> None:
        if not self._is_immutable(value):
            self.report(node, f"module-level `{source_of(node)}` keeps a value that can change between calls "
                              "(a cache, a counter, a closure or an object); bind module names only to numbers, "
                              "strings, tuples, functions and classes, and build mutable data inside the function")

    def _is_immutable(self, value: cst.BaseExpression) -> bool:
        return is_immutable_value(value, lambda node: self.get_metadata(QualifiedNameProvider, node, set()))
