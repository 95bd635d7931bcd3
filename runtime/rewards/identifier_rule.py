"""A base for rules that forbid identifiers however the code reaches them."""

from __future__ import annotations

import ast
from typing import ClassVar

from runtime.rewards.attribute_names import FORMAT_METHODS, WRITERS, literal_name, template_names_read
from runtime.rewards.lint_rule import LintRule


class ForbiddenIdentifierRule(LintRule):
    """Reports every use of a forbidden identifier.

    ``FORBIDDEN_NAMES`` are builtins: reported where a name that may be the builtin is read (a local
    variable of that name is not the builtin). ``FORBIDDEN_ATTRIBUTES`` are reported wherever they are used
    as an attribute: ``x.name`` (read or written), ``from module import name``, a class pattern
    ``case C(name=...)``, a ``getattr``/``setattr``/``__setattr__``-like call with the name as a string
    literal, a field of a literal ``str.format`` template, an annotated name in a class body (dataclasses
    read and write those as attributes), and a global name that may have come from a module. Subclasses set
    them (or override the ``forbids_*`` methods) and ``MESSAGE``, a format string with an ``{identifier}``
    field.
    """

    FORBIDDEN_NAMES: ClassVar[frozenset[str]] = frozenset()
    FORBIDDEN_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset()
    MESSAGE: ClassVar[str]

    def forbids_name(self, identifier: str) -> bool:
        return identifier in self.FORBIDDEN_NAMES or self.forbids_attribute(identifier)

    def forbids_attribute(self, identifier: str) -> bool:
        return identifier in self.FORBIDDEN_ATTRIBUTES

    def forbids_attribute_write(self, identifier: str) -> bool:
        return self.forbids_attribute(identifier)

    def visit_Name(self, node: ast.Name) -> None:
        if self.context.scopes.may_be_builtin(node) and self.forbids_name(node.id):
            self._report(node, node.id)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_attribute(node, node.attr, write=not isinstance(node.ctx, ast.Load))
        template = node.value.value if isinstance(node.value, ast.Constant) else None
        if node.attr in FORMAT_METHODS and isinstance(template, str):
            for identifier in template_names_read(template) or ():
                self._check_attribute(node.value, identifier)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            self._check_attribute(node, alias.name)

    def visit_MatchClass(self, node: ast.MatchClass) -> None:
        for identifier in node.kwd_attrs:
            self._check_attribute(node, identifier)

    def visit_Call(self, node: ast.Call) -> None:
        named = literal_name(node, self.context.scopes)
        if named is not None:
            self._check_attribute(node, named[1], write=named[0] in WRITERS)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for statement in node.body:
            if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
                target = statement.target
                self._check_attribute(target, target.id, write=statement.value is not None)

    def _check_attribute(self, node: ast.AST, identifier: str, write: bool = False) -> None:
        if self.forbids_attribute_write(identifier) if write else self.forbids_attribute(identifier):
            self._report(node, identifier)

    def _report(self, node: ast.AST, identifier: str) -> None:
        self.report(node, self.MESSAGE.format(identifier=identifier))
