"""The base of every static-analysis rule, in the style of Fixit, over CPython's own syntax tree.

A rule is a small class whose ``visit_<NodeType>`` methods (``visit_Attribute``, ``visit_Call`` ...) are
called for every node of that type and call ``self.report(node, message)``; the class carries ``VALID`` and
``INVALID`` code examples that the test suite runs (every ``INVALID`` example must make the rule report, no
``VALID`` example may). ``runtime.rewards.static_analysis`` walks the tree once, parents before children, and
hands every node to every rule; a rule never walks the tree itself.

The tree is ``ast``'s, the one CPython compiles, so a rule sees the program that runs: identifiers are
already normalised (``ｅｖａｌ`` is ``eval``) and line breaks mean what they mean to the interpreter.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import ClassVar

from runtime.rewards.scopes import Scopes
from runtime.rewards.verdict import Finding

EXAMPLE_ALLOWED_MODULES = frozenset({
    "math", "itertools", "operator", "functools", "typing", "dataclasses", "__future__",
})
"""The module allowlist that every rule's VALID and INVALID examples are written against."""


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know: the modules the task allows, the module's scopes, and its source lines."""

    allowed_modules: frozenset[str]
    scopes: Scopes
    lines: tuple[str, ...]
    """The source split where the interpreter breaks lines, to turn byte offsets into columns."""

    def column(self, node: ast.AST) -> int:
        """0-based column of ``node`` in characters (``ast`` counts UTF-8 bytes)."""
        line = self.lines[node.lineno - 1] if 0 < node.lineno <= len(self.lines) else ""
        return len(line.encode("utf-8", "surrogatepass")[: node.col_offset].decode("utf-8", "replace"))


class LintRule:
    """One check over a module. Subclasses set ``name`` (as it appears in verdicts), ``VALID`` and
    ``INVALID``, and define ``visit_<NodeType>`` methods."""

    name: ClassVar[str]
    VALID: ClassVar[tuple[str, ...]]
    INVALID: ClassVar[tuple[str, ...]]

    def __init__(self, context: RuleContext) -> None:
        self.context = context
        self.findings: list[Finding] = []

    def visit(self, node: ast.AST) -> None:
        """Hand ``node`` to this rule's ``visit_<NodeType>`` method, if it has one."""
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is not None:
            method(node)

    def report(self, node: ast.AST, message: str) -> None:
        """Record that ``node`` breaks this rule; ``message`` says what to do instead."""
        self.findings.append(Finding(self.name, node.lineno, self.context.column(node), message))


def source_of(node: ast.AST) -> str:
    """The code of ``node``, on one line, for quoting in messages (shortened when long)."""
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= 80 else text[:77] + "..."
