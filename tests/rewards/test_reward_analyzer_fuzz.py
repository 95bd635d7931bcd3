"""Fuzzing the analyzer: whatever the input, it returns a verdict and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.rewards import MATMUL, Verdict, analyze

FUZZ = settings(max_examples=100, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

WEIRD_CHARACTERS = st.sampled_from([
    "\x00", "\ud800", "\udfff", "\u202e", "\ufeff", "\u200b", "\u2028", "\x0c", "\r", "\t", "\\",
    "𝕩", "é", "ｆ", "\U0001f600", "ℌ", "\u0301", "'''", '"', "#", "\n", " ", "(", ")", ":", "=",
])
TOKENS = st.sampled_from([
    "def", "class", "lambda", "import", "from", "return", "yield", "await", "async", "global", "with",
    "for", "in", "if", "else", "try", "except", "match", "case", "(", ")", "[", "]", "{", "}", ":", ",",
    ".", "=", ":=", "**", "*", "@", "->", "\n", "    ", "matmul", "A", "B", "__class__", "eval", "'s'",
    "0", "1.5", "f'{x}'", "...", "#", "\\",
])

SNIPPETS = st.sampled_from([
    "import os", "from numpy import dot", "x = eval('1')", "global CACHE", "CACHE = {}", "y = A.__class__",
    "matmul.cache = 1", "@functools.lru_cache", "class C(metaclass=M):", "def g(x=[]):", "for i in range(3):",
    "with open('f') as h:", "return A", "yield 1", "nonlocal z", "f = lambda: 0", "match A:", "case [x, *rest]:",
    "try:", "except* ValueError:", "async def h():", "await x", "pass", "del A[0]", "raise SystemExit",
    "if __name__ == '__main__':", "__name__ = 'x'", "x: list = []", "(z := {})", "print(*A, sep='')",
    "time.perf_counter = f", "vars()['x'] = 1", "getattr(A, 'x')", "import typing as t", "t.sys", "else:",
])


def assert_verdict(source: str) -> None:
    verdict = analyze(source, MATMUL.allowed_modules)
    assert isinstance(verdict, Verdict)
    assert all(finding.rule and finding.line >= 0 for finding in verdict.findings)


@FUZZ
@given(st.text(max_size=400))
def test_random_text_gets_a_verdict(source):
    assert_verdict(source)


@FUZZ
@given(st.lists(TOKENS, max_size=60).map(" ".join))
def test_random_token_soup_gets_a_verdict(source):
    assert_verdict(source)


@FUZZ
@given(st.lists(WEIRD_CHARACTERS, max_size=40).map("".join), st.lists(WEIRD_CHARACTERS, max_size=40).map("".join))
def test_weird_unicode_around_valid_code_gets_a_verdict(prefix, suffix):
    assert_verdict(prefix + "def matmul(A, B):\n    return A\n" + suffix)


@FUZZ
@given(data=st.data())
def test_mutated_honest_programs_get_a_verdict(honest_sources, data):
    source = data.draw(st.sampled_from(honest_sources))
    for _ in range(data.draw(st.integers(1, 6))):
        position = data.draw(st.integers(0, len(source)))
        edit = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        fragment = data.draw(st.one_of(WEIRD_CHARACTERS, TOKENS))
        end = position + (0 if edit == "insert" else data.draw(st.integers(1, 8)))
        source = source[:position] + ("" if edit == "delete" else fragment) + source[end:]
    assert_verdict(source)


@FUZZ
@given(data=st.data())
def test_line_mutations_of_honest_programs_get_a_verdict(honest_sources, data):
    lines = data.draw(st.sampled_from(honest_sources)).splitlines()
    for _ in range(data.draw(st.integers(1, 5))):
        index = data.draw(st.integers(0, max(len(lines) - 1, 0)))
        target = lines[index] if lines else ""
        indent = target[: len(target) - len(target.lstrip())] + data.draw(st.sampled_from(["", "    "]))
        edit = data.draw(st.sampled_from(["insert", "delete", "duplicate"]))
        if edit == "insert":
            lines.insert(index, indent + data.draw(SNIPPETS))
        elif edit == "delete" and lines:
            del lines[index]
        elif lines:
            lines.insert(index, target)
    assert_verdict("\n".join(lines) + "\n")
