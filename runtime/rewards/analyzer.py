"""Static analysis of submitted code: parse safely, run every rule, return a verdict.

Malformed input never raises: anything CPython would not compile, or that is too deeply nested to
analyse safely, gets a verdict with the ``syntax`` rule.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence

import libcst as cst
from libcst.metadata import MetadataWrapper

from runtime.rewards.lint_rule import LintRule, RuleContext
from runtime.rewards.rules import ALL_RULES
from runtime.rewards.verdict import SYNTAX_RULE, Finding, Verdict

MAX_NESTING_DEPTH = 100
"""Deepest syntax tree analysed. CPython's parser bounds nesting, libcst's native parser and visitors
recurse without a bound; honest code stays far below this."""


def analyze(
    source: str, allowed_modules: Iterable[str], rules: Sequence[type[LintRule]] = ALL_RULES
) -> Verdict:
    """Run ``rules`` over ``source`` for a task that allows importing ``allowed_modules``.

    Always returns a verdict, sorted by line: source that does not parse yields one ``syntax`` finding.
    """
    problem = _syntax_problem(source)
    if problem is not None:
        return Verdict((problem,))
    try:
        wrapper = MetadataWrapper(cst.parse_module(source))
        context = RuleContext(frozenset(allowed_modules))
        findings: list[Finding] = []
        for rule_class in rules:
            rule = rule_class(context)
            wrapper.visit(rule)
            findings.extend(rule.findings)
    except cst.ParserSyntaxError as error:
        return Verdict((Finding(SYNTAX_RULE, error.raw_line, error.raw_column,
                                f"libcst cannot parse this ({error.message}); write plain Python 3.11"),))
    except RecursionError:
        return Verdict((_too_deep(),))
    return Verdict(tuple(sorted(findings, key=lambda finding: (finding.line, finding.column))))


def _syntax_problem(source: str) -> Finding | None:
    """A ``syntax`` finding when CPython cannot compile ``source`` or it nests too deeply, else None.
    Compiling runs nothing: it only turns the code into bytecode."""
    try:
        tree = ast.parse(source)
        compile(tree, "<submission>", "exec", dont_inherit=True)  # compile-time errors, e.g. `return` outside def
    except SyntaxError as error:
        return Finding(SYNTAX_RULE, error.lineno or 1, (error.offset or 1) - 1,
                       f"{error.msg}; the code must be valid Python")
    except (ValueError, RecursionError, MemoryError) as error:
        # ValueError: null bytes or unencodable characters; the others: expressions too deep for CPython.
        return Finding(SYNTAX_RULE, 1, 0, f"the code cannot be parsed ({type(error).__name__}: {error}); "
                                          "write plain, moderately nested Python")
    if _nesting_depth(tree) > MAX_NESTING_DEPTH:
        return _too_deep()
    return None


def _nesting_depth(tree: ast.AST) -> int:
    deepest, pending = 0, [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _too_deep() -> Finding:
    return Finding(SYNTAX_RULE, 1, 0, f"the code nests more than {MAX_NESTING_DEPTH} levels deep, too deep "
                                      "to analyse; flatten the expressions")
