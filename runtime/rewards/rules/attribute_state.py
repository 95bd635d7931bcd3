"""Rule: attributes are written only by __init__ on the instance it builds."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import ExpressionContextProvider, PositionProvider, QualifiedNameProvider, QualifiedNameSource

from runtime.rewards.attribute_targets import WRITE_CONTEXTS, root_name
from runtime.rewards.lint_rule import LintRule, RuleContext, source_of


class AttributeState(LintRule):
    """Functions and classes live as long as the module, so attributes written on them
    (``matmul.cache = {}``, ``Memo.table = ...``, ``type(self).hits += 1``) are caches that outlive the
    call. The one attribute write allowed is ``self.name = ...`` inside ``__init__`` on the instance
    being built (reaching ``__init__`` any other way needs a dunder, which ``DunderAccess`` rejects).
    Writes to imported objects are ``ModuleAttributeAssignment``'s."""

    name = "attribute-state"
    METADATA_DEPENDENCIES = (PositionProvider, ExpressionContextProvider, QualifiedNameProvider)
    VALID = (
        "class Matrix:\n    def __init__(self, rows):\n        self.rows = rows\n        self.size = len(rows)",
        "def f(rows):\n    rows[0] = 1\n    return rows",
    )
    INVALID = (
        "def matmul(A, B):\n    return A\nmatmul.cache = {}",
        "class Memo:\n    def remember(self, key, value):\n        self.last = value",
        "class Memo:\n    def __init__(self):\n        type(self).hits = 0",
        "def f(A):\n    f.calls = 1",
        "class Memo:\n    def __init__(self):\n        def later():\n            self.value = 1",
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._scopes: list[str] = []
        self._instance_names: list[str | None] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.append("class")

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        is_initialiser = self._scopes[-1:] == ["class"] and node.name.value == "__init__"
        parameters = node.params.params
        self._instance_names.append(parameters[0].name.value if is_initialiser and parameters else None)
        self._scopes.append("function")

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._instance_names.pop()
        self._scopes.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self.get_metadata(ExpressionContextProvider, node, None) not in WRITE_CONTEXTS:
            return
        root = root_name(node)
        if root is not None and any(
            name.source is QualifiedNameSource.IMPORT for name in self.get_metadata(QualifiedNameProvider, root, set())
        ):
            return
        if isinstance(node.value, cst.Name) and self._instance_names[-1:] == [node.value.value]:
            return
        self.report(node, f"`{source_of(node)}` stores state on an object that can outlive the call (a function "
                          "or class attribute cache); keep intermediate results in local variables")
