"""The analyzer turns any source into a verdict that names the rule and the line."""

from __future__ import annotations

import pytest

from runtime.rewards import MATMUL, analyze
from runtime.rewards.analyzer import MAX_NESTING_DEPTH
from runtime.rewards.verdict import SYNTAX_RULE

ALLOWED = MATMUL.allowed_modules


@pytest.mark.parametrize("source", [
    "def matmul(A, B)\n    return A",
    "def f(:",
    "x = (",
    "\x00",
    "return 1",
    "def f():\nreturn 1",
    "x = 1 +",
    "print 'hello'",
    "\ud800 = 1",
    "async = 1",
], ids=["missing-colon", "bad-params", "unclosed", "null-byte", "return-outside", "bad-indent",
        "dangling-operator", "python2", "surrogate", "keyword-as-name"])
def test_malformed_source_gets_a_syntax_verdict(source):
    verdict = analyze(source, ALLOWED)
    assert not verdict.accepted
    assert verdict.rules == (SYNTAX_RULE,)


@pytest.mark.parametrize("source", [
    "x = " + "(" * 5000 + "1" + ")" * 5000,
    "x = " + "-" * 2000 + "1",
    "x = a" + ".b" * 2000,
    "x = f" + "()" * 2000,
    "x = " + "+".join(["1"] * 2000),
    "x = " + "not " * 2000 + "1",
    "x = " + "lambda: " * 2000 + "1",
    "x = " + " ".join(['"a"'] * 4000),
    "".join(" " * depth + "if 1:\n" for depth in range(120)) + " " * 120 + "pass\n",
], ids=["parentheses", "unary", "attributes", "calls", "sums", "nots", "lambdas", "strings", "blocks"])
def test_deeply_nested_source_is_rejected_without_crashing(source):
    assert analyze(source, ALLOWED).rules == (SYNTAX_RULE,)


def test_nesting_just_inside_the_limit_is_analysed():
    source = "x = " + "-" * (MAX_NESTING_DEPTH - 10) + "1"
    assert analyze(source, ALLOWED).accepted


def test_finding_names_rule_and_line():
    verdict = analyze("import math\n\n\ndef matmul(A, B):\n    import numpy\n    return A\n", ALLOWED)
    [finding] = verdict.findings
    assert (finding.rule, finding.line) == ("import-outside-allowlist", 5)
    assert "numpy" in finding.message and str(finding).startswith("line 5: import-outside-allowlist:")


def test_findings_are_sorted_by_line():
    verdict = analyze("def f():\n    eval('1')\n\nimport os\nx = globals()\n", ALLOWED)
    lines = [finding.line for finding in verdict.findings]
    assert lines == sorted(lines) and len(lines) >= 3


def test_allowlist_comes_from_the_task():
    assert analyze("import math", {"math"}).accepted
    assert analyze("import math", {"itertools"}).rules == ("import-outside-allowlist",)


def test_analysis_never_runs_the_code():
    assert not analyze("raise SystemExit(3)\nimport os\nos._exit(4)", ALLOWED).accepted


def test_empty_source_is_accepted_by_analysis():
    assert analyze("", ALLOWED).accepted
