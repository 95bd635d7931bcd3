"""Static analysis of one source in this process: check that it can be analysed, then run the rules.

Everything that judges untrusted code calls ``runtime.rewards.analyzer.analyze``, which runs this in a
limited subprocess; rule tests and the analysis worker call ``analyze_in_process`` directly. Nothing here
runs the code: it is parsed and compiled to bytecode by CPython itself, and the rules read that syntax tree.
"""

from __future__ import annotations

import ast
import codecs
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence

from runtime.rewards.lint_rule import LintRule, RuleContext
from runtime.rewards.module_api import star_names
from runtime.rewards.rules import ALL_RULES
from runtime.rewards.scopes import Scopes
from runtime.rewards.verdict import ENCODING_RULE, SYNTAX_RULE, TOO_LONG_RULE, Finding, Verdict

MAX_SOURCE_CHARS = 64 * 1024
"""Longest source analysed; honest solutions are a few kilobytes."""
MAX_NESTING_DEPTH = 100
"""Deepest syntax tree analysed; honest code stays far below this, and CPython's compiler recurses on it."""
MAX_FINDINGS_PER_RULE = 20
"""Findings kept of each rule, the first by position: enough to read and fix the code, and a bound on what each
remembered verdict holds (a program of one forbidden line repeated would otherwise give thousands)."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CODING = re.compile(r"[ \t\f]*#[^\r\n]*?coding[:=][ \t]*([-\w.]+)")
"""An encoding declaration (PEP 263), honoured in the first two lines of a file read as bytes."""


def analyze_in_process(
    source: str, allowed_modules: Iterable[str], rules: Sequence[type[LintRule]] = ALL_RULES
) -> Verdict:
    """Run ``rules`` over ``source`` for a task that allows importing ``allowed_modules``.

    Always returns a verdict, sorted by position, with the first ``MAX_FINDINGS_PER_RULE`` findings of each
    rule: source that cannot be analysed yields one finding of ``too-long``, ``encoding-declaration`` or
    ``syntax``. Blocks that never run in the sandbox (see ``runtime.rewards.scopes``) are not looked at."""
    parsed = parse_for_analysis(source)
    if isinstance(parsed, Finding):
        return Verdict((parsed,))
    allowed = frozenset(allowed_modules)
    scopes = Scopes(parsed, lambda module: star_names(module) if module in allowed else ())
    context = RuleContext(allowed, scopes, tuple(_LINE_BREAK.split(source)))
    active = [rule(context) for rule in rules]
    for node in _nodes_that_run(parsed, scopes):
        for rule in active:
            rule.visit(node)
    by_position = [sorted(rule.findings, key=_position)[:MAX_FINDINGS_PER_RULE] for rule in active]
    return Verdict(tuple(sorted((finding for findings in by_position for finding in findings), key=_position)))


def parse_for_analysis(source: str) -> ast.Module | Finding:
    """The syntax tree of ``source``, or the finding that says why it cannot be analysed."""
    if len(source) > MAX_SOURCE_CHARS:
        return Finding(TOO_LONG_RULE, 1, 0, f"the code has {len(source)} characters, more than the "
                                            f"{MAX_SOURCE_CHARS} analysed; write a shorter program")
    declaration = _encoding_declaration(source)
    if declaration is not None:
        return declaration
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings about the submission are not ours to print
            tree = ast.parse(source)
            if _nesting_depth(tree) > MAX_NESTING_DEPTH:
                return Finding(SYNTAX_RULE, 1, 0, f"the code nests more than {MAX_NESTING_DEPTH} levels "
                                                  "deep, too deep to analyse; flatten the expressions")
            # Errors of the compiler itself, such as `return` outside a function:
            compile(tree, "<submission>", "exec", dont_inherit=True)
    except SyntaxError as error:
        return Finding(SYNTAX_RULE, error.lineno or 1, max((error.offset or 1) - 1, 0),
                       f"{error.msg}; the code must be valid Python")
    except (ValueError, RecursionError, MemoryError) as error:
        # ValueError: null bytes or unencodable characters; the others: expressions too deep for CPython.
        return Finding(SYNTAX_RULE, 1, 0, f"the code cannot be parsed ({type(error).__name__}: {error}); "
                                          "write plain, moderately nested Python")
    return tree


def _encoding_declaration(source: str) -> Finding | None:
    """A finding for an encoding declaration other than UTF-8: the text judged here would not be the
    program a file with that declaration decodes to."""
    for number, line in enumerate(_LINE_BREAK.split(source, maxsplit=2)[:2], start=1):
        match = _CODING.match(line)
        if match is not None:
            try:
                if codecs.lookup(match.group(1)).name == "utf-8":
                    return None
            except LookupError:
                pass
            return Finding(ENCODING_RULE, number, 0, f"the code declares the encoding `{match.group(1)}`, "
                                                     "under which a file decodes to another program than the "
                                                     "one judged; remove the declaration or declare utf-8")
    return None


def _nesting_depth(tree: ast.AST) -> int:
    deepest, pending = 0, [(tree, 1)]
    while pending:
        node, depth = pending.pop()
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _nodes_that_run(tree: ast.Module, scopes: Scopes) -> Iterator[ast.AST]:
    """Every node of ``tree``, parents before children, except the bodies of inert guards."""
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        yield node
        if scopes.is_inert_guard(node):
            children = [node.test, *node.orelse]
        else:
            children = list(ast.iter_child_nodes(node))
        pending.extend(reversed(children))


def _position(finding: Finding) -> tuple[int, int]:
    return finding.line, finding.column
