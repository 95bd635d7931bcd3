"""What the static analysis says about one piece of source code."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SYNTAX_RULE = "syntax"
"""Rule name of the finding given to source that does not compile (or is too deeply nested to analyse)."""
TOO_LONG_RULE = "too-long"
"""Rule name of the finding given to source longer than the analysis accepts."""
ENCODING_RULE = "encoding-declaration"
"""Rule name of the finding given to source that declares an encoding other than UTF-8."""
ANALYSIS_CRASHED_RULE = "analysis-crashed"
"""Rule name of the finding given when the isolated analysis died on the source."""
ANALYSIS_TIMEOUT_RULE = "analysis-timeout"
"""Rule name of the finding given when the isolated analysis ran out of time on the source."""
UNANALYSED_RULES = frozenset({SYNTAX_RULE, TOO_LONG_RULE, ENCODING_RULE, ANALYSIS_CRASHED_RULE,
                              ANALYSIS_TIMEOUT_RULE})
"""Rules of verdicts given without the rules having looked at the code: nothing else is known about it
(for instance whether it defines a function)."""


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
    def analysed(self) -> bool:
        """False when the code could not be analysed at all (see ``UNANALYSED_RULES``)."""
        return not any(finding.rule in UNANALYSED_RULES for finding in self.findings)

    @property
    def rules(self) -> tuple[str, ...]:
        return rule_names(self.findings)


def rule_names(findings: Iterable[Finding]) -> tuple[str, ...]:
    """Names of the rules that reported ``findings``, each once, in order of first finding."""
    return tuple(dict.fromkeys(finding.rule for finding in findings))
