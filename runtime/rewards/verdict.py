"""What the static analysis says about one piece of source code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SYNTAX_RULE = "syntax"
"""Rule name of the finding given to source that does not parse (or is too deeply nested to analyse)."""


@dataclass(frozen=True)
class Finding:
    """One problem: the rule that found it, where (1-based line, 0-based column) and what to do about it."""

    rule: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.rule}: {self.message}"


@dataclass(frozen=True)
class Verdict:
    """The outcome of analysing one source: accepted exactly when no rule reported a finding."""

    findings: tuple[Finding, ...]

    @property
    def accepted(self) -> bool:
        return not self.findings

    @property
    def rules(self) -> tuple[str, ...]:
        return rule_names(self.findings)


def rule_names(findings: Iterable[Finding]) -> tuple[str, ...]:
    """Names of the rules that reported ``findings``, each once, in order of first finding."""
    return tuple(dict.fromkeys(finding.rule for finding in findings))
