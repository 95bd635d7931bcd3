"""A base for rules that forbid identifiers however they are spelled."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from runtime.rewards.lint_rule import LintRule, RuleContext


class ForbiddenIdentifierRule(LintRule):
    """Reports every use of a forbidden identifier: as a name (``eval(...)``), as an attribute
    (``sys._getframe``) or as a name imported with ``from module import name``.

    Definitions (``def``/``class`` names) and keyword-argument names are not uses. Module paths of
    import statements are left to ``ImportOutsideAllowlist``. Subclasses set ``FORBIDDEN`` (or override
    ``is_forbidden``) and ``MESSAGE``, a format string with an ``{identifier}`` field.
    """

    FORBIDDEN: ClassVar[frozenset[str]] = frozenset()
    MESSAGE: ClassVar[str]

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._names_that_are_not_uses: set[cst.Name] = set()

    def is_forbidden(self, identifier: str) -> bool:
        return identifier in self.FORBIDDEN

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                self._check(alias.evaluated_name, alias)
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._names_that_are_not_uses.add(node.name)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._names_that_are_not_uses.add(node.name)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._names_that_are_not_uses.add(node.keyword)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._names_that_are_not_uses.add(node.attr)
        self._check(node.attr.value, node)

    def visit_Name(self, node: cst.Name) -> None:
        if node not in self._names_that_are_not_uses:
            self._check(node.value, node)

    def _check(self, identifier: str, node: cst.CSTNode) -> None:
        if self.is_forbidden(identifier):
            self.report(node, self.MESSAGE.format(identifier=identifier))
