"""Fuzzing the analyzer and the code extraction: whatever the input, a verdict (or the code) comes back, soon,
and nothing raises. Most examples run in this process (the same analysis the worker runs); batches go through
the isolated worker, to show that nothing kills or stalls it either."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.rewards import MATMUL, Verdict, extract_python_code
from runtime.rewards.analyzer import analyze_many
from runtime.rewards.static_analysis import analyze_in_process

FUZZ = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
BATCHES = settings(max_examples=4, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

WEIRD_CHARACTERS = st.sampled_from([
    "\x00", "\ud800", "\udfff", "\u202e", "\ufeff", "\u200b", "\u2028", "\x0c", "\r", "\t", "\\",
    "𝕩", "é", "ｆ", "\U0001f600", "ℌ", "\u0301", "'''", '"', "#", "\n", " ", "(", ")", ":", "=", "```",
])
TOKENS = st.sampled_from([
    "def", "class", "lambda", "import", "from", "return", "yield", "await", "async", "global", "with",
    "for", "in", "if", "else", "try", "except", "match", "case", "(", ")", "[", "]", "{", "}", ":", ",",
    ".", "=", ":=", "**", "*", "@", "->", "\n", "    ", "matmul", "A", "B", "__class__", "eval", "'s'",
    "0", "1.5", "f'{x}'", "...", "#", "\\", "nonlocal", "__name__", "'{0.x}'.format", "getattr",
])
SNIPPETS = st.sampled_from([
    "import os", "from numpy import dot", "x = eval('1')", "global CACHE", "CACHE = {}", "y = A.__class__",
    "matmul.cache = 1", "@functools.lru_cache", "class C(metaclass=M):", "def g(x=[]):", "for i in range(3):",
    "with open('f') as h:", "return A", "yield 1", "nonlocal z", "f = lambda: 0", "match A:", "case [x, *rest]:",
    "case C(a, b=c):", "try:", "except* ValueError:", "async def h():", "await x", "pass", "del A[0]",
    "if __name__ == '__main__':", "__name__ = 'x'", "x: list = []", "(z := {})", "print(*A, sep='')",
    "vars()['x'] = 1", "getattr(A, 'x')", "import typing as t", "t.sys", "else:", "'{0.gi_frame}'.format(g)",
    "from typing import *", "if TYPE_CHECKING:", "global __name__", "[vars for vars in x]",
])
HOSTILE = st.one_of(
    st.integers(1, 3000).map(lambda depth: "x = " + "(" * depth + ")" * depth),
    st.integers(1, 3000).map(lambda depth: "x = " + "[" * depth + "]" * depth),
    st.integers(1, 3000).map(lambda depth: "x = " + "-" * depth + "1"),
    st.integers(1, 9000).map(lambda terms: "x = " + " or ".join(["x"] * terms)),
    st.integers(1, 4000).map(lambda lines: "v = 1\n" * lines),
    st.integers(1, 200).map(
        lambda depth: "".join(" " * level + "if x:\n" for level in range(depth)) + " " * depth + "pass"
    ),
    st.integers(60_000, 70_000).map(lambda size: "#" * size),
    st.text(max_size=200).map(lambda text: text + "\x00" + text),
)


def assert_verdict(verdict: object) -> None:
    assert isinstance(verdict, Verdict)
    assert all(finding.rule and finding.line >= 0 and finding.column >= 0 for finding in verdict.findings)


def analyse(source: str) -> None:
    assert_verdict(analyze_in_process(source, MATMUL.allowed_modules))


@FUZZ
@given(st.text(max_size=400))
def test_random_text_gets_a_verdict(source):
    analyse(source)


@FUZZ
@given(st.lists(TOKENS, max_size=60).map(" ".join))
def test_random_token_soup_gets_a_verdict(source):
    analyse(source)


@FUZZ
@given(st.lists(WEIRD_CHARACTERS, max_size=40).map("".join), st.lists(WEIRD_CHARACTERS, max_size=40).map("".join))
def test_weird_unicode_around_valid_code_gets_a_verdict(prefix, suffix):
    analyse(prefix + "def matmul(A, B):\n    return A\n" + suffix)


@FUZZ
@given(HOSTILE)
def test_deep_huge_and_binary_sources_get_a_verdict(source):
    analyse(source)


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
    analyse(source)


@FUZZ
@given(data=st.data())
def test_line_mutations_of_honest_programs_get_a_verdict(honest_sources, data):
    analyse(_mutated_lines(data, honest_sources))


@BATCHES
@given(data=st.data())
def test_the_isolated_worker_answers_every_source_of_a_hostile_batch(honest_sources, data):
    sources = data.draw(st.lists(st.one_of(HOSTILE, st.text(max_size=300), st.lists(TOKENS).map(" ".join)),
                                 min_size=10, max_size=20))
    sources.append(_mutated_lines(data, honest_sources))
    start = time.monotonic()
    verdicts = analyze_many(sources, MATMUL.allowed_modules)
    assert time.monotonic() - start < 60
    assert len(verdicts) == len(sources)
    for verdict in verdicts:
        assert_verdict(verdict)


@FUZZ
@given(st.lists(st.one_of(WEIRD_CHARACTERS, TOKENS, st.sampled_from(["```python\n", "```\n", "\n```", "~~~"])),
                max_size=80).map("".join))
def test_extraction_returns_part_of_the_text(text):
    code = extract_python_code(text)
    assert isinstance(code, str) and len(code) <= len(text)


@BATCHES
@given(st.sampled_from(["```python\n", "```", "```\n", "`", "\n```py x\n"]), st.integers(100_000, 300_000))
def test_extraction_takes_linear_time_on_long_unterminated_fences(fence, size):
    start = time.monotonic()
    extract_python_code(fence + "x" * size)
    extract_python_code(fence * (size // len(fence)))
    assert time.monotonic() - start < 2


def _mutated_lines(data: st.DataObject, honest_sources: list[str]) -> str:
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
    return "\n".join(lines) + "\n"
