"""Rule: attributes are written only by __init__ on the instance it builds."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.metadata import ExpressionContextProvider, QualifiedNameProvider, QualifiedNameSource

from runtime.rewards.attribute_targets import WRITE_CONTEXTS, root_name
from runtime.rewards.lint_rule import LintRule, RuleContext, source_of


class AttributeState(LintRule):
    """Functions and classes live as long as the module, so attributes written on them
    (``matmul.cache = {}``, ``Memo.table = ...``, ``type(self).hits += 1``) are caches that outlive the
    call. The one attribute write allowed is ``self.name = ...`` inside ``__init__`` on the instance
    being built, as long as ``__init__`` never rebinds ``self`` (reaching ``__init__`` with another
    object needs a dunder, which ``DunderAccess`` rejects).
    Writes to imported objects are ``ModuleAttributeAssignment``'s."""

    name = "attribute-state"
    METADATA_DEPENDENCIES = (ExpressionContextProvider, QualifiedNameProvider)
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
        "class Setup:\n    def __init__(self):\n        self = matmul\n        self.cache = {}",
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
        self._instance_names.append(self._instance_name(node))
        self._scopes.append("function")

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._instance_names.pop()
        self._scopes.pop()

    def _instance_name(self, node: cst.FunctionDef) -> str | None:
        """The first parameter of an ``__init__`` defined in a class body, unless the body rebinds it
        (``self = matmul`` would turn ``self.cache = ...`` into a function attribute)."""
        parameters = node.params.params
        if self._scopes[-1:] != ["class"] or node.name.value != "__init__" or not parameters:
            return None
        name = parameters[0].name.value
        for use in m.findall(node.body, m.Name(name)):
            if self.get_metadata(ExpressionContextProvider, use, None) in WRITE_CONTEXTS:
                return None
        return name

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
