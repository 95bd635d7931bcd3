"""The base of every static-analysis rule, in the style of Fixit.

A rule is a small libcst visitor: its ``visit_*`` methods call ``self.report(node, message)``, and the
class carries ``VALID`` and ``INVALID`` code examples that the test suite runs (every ``INVALID``
example must make the rule report, no ``VALID`` example may). Rules are run one at a time over a
shared ``MetadataWrapper`` by ``runtime.rewards.analyzer.analyze``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import libcst as cst
from libcst.metadata import PositionProvider

from runtime.rewards.verdict import Finding

EXAMPLE_ALLOWED_MODULES = frozenset({"math", "itertools", "operator", "functools", "typing", "__future__"})
"""The module allowlist that every rule's VALID and INVALID examples are written against."""


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know about the task: the modules a submission is allowed to import."""

    allowed_modules: frozenset[str]


class LintRule(cst.CSTVisitor):
    """One check over a module. Subclasses set ``name`` (as it appears in verdicts), ``VALID`` and
    ``INVALID``, and list the metadata providers they use in ``METADATA_DEPENDENCIES`` (libcst adds
    those of the base classes, so ``PositionProvider`` comes with this one)."""

    METADATA_DEPENDENCIES: ClassVar[tuple] = (PositionProvider,)
    name: ClassVar[str]
    VALID: ClassVar[tuple[str, ...]]
    INVALID: ClassVar[tuple[str, ...]]

    def __init__(self, context: RuleContext) -> None:
        super().__init__()
        self.context = context
        self.findings: list[Finding] = []

    def report(self, node: cst.CSTNode, message: str) -> None:
        """Record that ``node`` breaks this rule; ``message`` says what to do instead."""
        start = self.get_metadata(PositionProvider, node).start
        self.findings.append(Finding(self.name, start.line, start.column, message))


def source_of(node: cst.CSTNode) -> str:
    """The code of ``node`` as written, on one line, for quoting in messages."""
    return " ".join(cst.Module(body=[]).code_for_node(node).split())
