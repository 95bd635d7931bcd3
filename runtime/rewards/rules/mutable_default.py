"""Rule: default arguments are immutable."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import QualifiedNameProvider

from runtime.rewards.immutable_values import is_immutable_value
from runtime.rewards.lint_rule import LintRule, source_of


class MutableDefault(LintRule):
    """A default value is created once, when the function is defined, and shared by every call:
    ``def matmul(A, B, _cache={})`` is a cache that outlives the call. Defaults must be immutable."""

    name = "mutable-default"
    METADATA_DEPENDENCIES = (QualifiedNameProvider,)
    VALID = (
        "def f(a, b, block=16, name='x', shape=(1, 2), scale=None):\n    return a",
        "g = lambda a, b=0.0: a + b",
        "import math\ndef f(a, tolerance=math.ulp(1.0)):\n    return a",
    )
    INVALID = (
        "def matmul(A, B, _cache={}):\n    return _cache",
        "def f(a, seen=[]):\n    return seen",
        "g = lambda a, memo=dict(): memo",
        "class Memo:\n    pass\ndef f(a, memo=Memo()):\n    return memo",
        "def f(a, *, seen=set()):\n    return seen",
    )

    def visit_Param(self, node: cst.Param) -> None:
        if node.default is not None and not is_immutable_value(
            node.default, lambda expression: self.get_metadata(QualifiedNameProvider, expression, set())
        ):
            self.report(node, f"default `{source_of(node)}` is created once and shared by every call (a cache "
                              "that outlives the call); default to None and build the value inside the function")
