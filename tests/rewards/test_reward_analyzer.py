"""The analyzer turns any source into a verdict that names the rule and the line, in an isolated worker that
no source can crash or stall."""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from runtime.rewards import MATMUL, analyze
from runtime.rewards.analyzer import AnalysisLimits, AnalysisUnavailableError, analyze_many
from runtime.rewards.static_analysis import (
    MAX_FINDINGS_PER_RULE,
    MAX_NESTING_DEPTH,
    MAX_SOURCE_CHARS,
    analyze_in_process,
)
from runtime.rewards.verdict import (
    ANALYSIS_CRASHED_RULE,
    ANALYSIS_TIMEOUT_RULE,
    ENCODING_RULE,
    SYNTAX_RULE,
    TOO_LONG_RULE,
)

ALLOWED = MATMUL.allowed_modules
FAKE_WORKER = (
    "import json, os, signal, sys, time\n"
    "print('ready', flush=True)\n"
    "for source in json.load(sys.stdin)['sources']:\n"
    "    if source.startswith('crash'):\n"
    "        os.kill(os.getpid(), signal.SIGSEGV)\n"
    "    if source.startswith('hang'):\n"
    "        time.sleep(60)\n"
    "    print(json.dumps({'findings': []}), flush=True)\n"
)
"""A stand-in worker that dies on sources starting with "crash" and stalls on those starting with "hang"."""

MALFORMED = {
    "missing-colon": "def matmul(A, B)\n    return A",
    "bad-params": "def f(:",
    "unclosed": "x = (",
    "null-byte": "\x00",
    "return-outside": "return 1",
    "bad-indent": "def f():\nreturn 1",
    "dangling-operator": "x = 1 +",
    "python2": "print 'hello'",
    "surrogate": "\ud800 = 1",
    "keyword-as-name": "async = 1",
    "nonlocal-without-binding": "def f():\n    nonlocal x",
}
DEEP = {
    "parentheses": "x = " + "(" * 5000 + "1" + ")" * 5000,
    "unary": "x = " + "-" * 2000 + "1",
    "attributes": "x = a" + ".b" * 2000,
    "calls": "x = f" + "()" * 2000,
    "sums": "x = " + "+".join(["1"] * 2000),
    "nots": "x = " + "not " * 2000 + "1",
    "lambdas": "x = " + "lambda: " * 2000 + "1",
    "blocks": "".join(" " * depth + "if 1:\n" for depth in range(120)) + " " * 120 + "pass\n",
}


def unique(text: str) -> str:
    """``text`` made distinct from every other source, so that no remembered verdict answers for it."""
    return f"{text}\n# {uuid.uuid4()}\n"


@pytest.mark.parametrize("source", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_source_gets_a_syntax_verdict(source):
    verdict = analyze_in_process(source, ALLOWED)
    assert not verdict.accepted and verdict.rules == (SYNTAX_RULE,)


@pytest.mark.parametrize("source", DEEP.values(), ids=DEEP.keys())
def test_deeply_nested_source_is_rejected_without_crashing(source):
    assert analyze_in_process(source, ALLOWED).rules == (SYNTAX_RULE,)


def test_isolated_analysis_gives_the_same_verdicts_in_one_batch():
    sources = [*MALFORMED.values(), *DEEP.values(), "import math\n", "import os\n"]
    isolated = analyze_many(sources, ALLOWED)
    assert isolated == [analyze_in_process(source, ALLOWED) for source in sources]


def test_nesting_just_inside_the_limit_is_analysed():
    assert analyze_in_process("x = " + "-" * (MAX_NESTING_DEPTH - 10) + "1", ALLOWED).accepted


def test_sources_that_broke_the_old_analysis_get_verdicts_quickly():
    """An 8,000-term `or` chain segfaulted libcst; 4,000 rebindings of one name took its scope analysis 28 s."""
    or_chain = "x = 0\ny = " + " or ".join(["x"] * 8000) + "\n"
    rebindings = "".join(f"value = {index}\n" for index in range(4000)) + "import os\n"
    start = time.monotonic()
    chain_verdict, rebinding_verdict = analyze_many([unique(or_chain), unique(rebindings)], ALLOWED)
    assert time.monotonic() - start < 10
    assert chain_verdict.accepted and rebinding_verdict.rules == ("import-outside-allowlist",)


def test_source_over_the_size_limit_is_rejected_without_starting_a_worker(monkeypatch):
    monkeypatch.setattr(subprocess, "Popen", pytest.fail)
    verdict = analyze("x = 1\n" * (MAX_SOURCE_CHARS // 6 + 1), ALLOWED)
    assert verdict.rules == (TOO_LONG_RULE,) and not verdict.analysed


def test_encoding_declarations_other_than_utf8_are_rejected():
    assert analyze_in_process("# -*- coding: utf-7 -*-\nx = 1 # +AAo-import os\n", ALLOWED).rules == (ENCODING_RULE,)
    assert analyze_in_process("#!/usr/bin/env python\n# coding: latin-1\n", ALLOWED).rules == (ENCODING_RULE,)
    assert analyze_in_process("# -*- coding: utf-8 -*-\nx = 1\n", ALLOWED).accepted
    assert analyze_in_process("x = 1\ny = 2\n# coding: latin-1\n", ALLOWED).accepted  # only lines 1 and 2 count


def test_a_worker_that_dies_or_stalls_on_a_source_gives_verdicts_and_the_batch_goes_on(monkeypatch):
    monkeypatch.setattr("runtime.rewards.analyzer.WORKER_BOOTSTRAP", FAKE_WORKER)
    sources = [unique("fine"), unique("crash"), unique("fine too"), unique("hang"), unique("last")]
    start = time.monotonic()
    verdicts = analyze_many(sources, ALLOWED, AnalysisLimits(seconds_per_source=1.0))
    assert time.monotonic() - start < 20
    assert [verdict.rules for verdict in verdicts] == [
        (), (ANALYSIS_CRASHED_RULE,), (), (ANALYSIS_TIMEOUT_RULE,), ()]
    assert "SIGSEGV" in verdicts[1].findings[0].message


def test_a_worker_that_cannot_start_is_a_judge_error(monkeypatch):
    monkeypatch.setattr("runtime.rewards.analyzer.WORKER_BOOTSTRAP", "import sys; sys.exit('no analysis here')")
    with pytest.raises(AnalysisUnavailableError, match="no analysis here"):
        analyze(unique("x = 1"), ALLOWED)


def test_each_distinct_source_is_analysed_once(monkeypatch):
    starts = []
    real_popen = subprocess.Popen

    def counting_popen(*args, **kwargs):
        starts.append(args)
        return real_popen(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", counting_popen)
    first, second = unique("import math"), unique("import os")
    verdicts = analyze_many([first, second, first], ALLOWED)
    assert [verdict.rules for verdict in verdicts] == [(), ("import-outside-allowlist",), ()]
    assert analyze(second, ALLOWED) == verdicts[1] and analyze_many([first], ALLOWED) == [verdicts[0]]
    assert len(starts) == 1


def test_finding_names_rule_line_and_column():
    verdict = analyze_in_process("import math\n\n\ndef matmul(A, B):\n    é = 1; import numpy\n    return A\n",
                                 ALLOWED)
    [finding] = verdict.findings
    assert (finding.rule, finding.line, finding.column) == ("import-outside-allowlist", 5, 11)
    assert "numpy" in finding.message and str(finding).startswith("line 5: import-outside-allowlist:")


def test_findings_are_sorted_by_line():
    verdict = analyze_in_process("def f():\n    eval('1')\n\nimport os\nx = globals()\n", ALLOWED)
    assert [finding.line for finding in verdict.findings] == [2, 4, 5]


def test_a_forbidden_line_repeated_keeps_the_first_findings_of_its_rule():
    """Verdicts are remembered: one of a program of thousands of findings must not hold them all."""
    verdict = analyze_in_process("getattr\n" * 5000 + "import os\n", ALLOWED)
    assert [finding.line for finding in verdict.findings] == [*range(1, MAX_FINDINGS_PER_RULE + 1), 5001]
    assert verdict.rules == ("dynamic-attribute", "import-outside-allowlist")


def test_identifiers_are_read_as_the_interpreter_reads_them():
    """Python folds identifiers to NFKC: a full-width `ｅｖａｌ` is `eval`."""
    assert analyze_in_process("ｅｖａｌ('1')", ALLOWED).rules == ("dynamic-code",)


def test_allowlist_comes_from_the_task():
    assert analyze_in_process("import math", {"math"}).accepted
    assert analyze_in_process("import math", {"itertools"}).rules == ("import-outside-allowlist",)


def test_blocks_that_never_run_in_the_sandbox_are_not_analysed():
    guarded = "if __name__ == '__main__':\n    import random\n"
    assert analyze_in_process(guarded, ALLOWED).accepted
    assert not analyze_in_process("__name__ = '__main__'\n" + guarded, ALLOWED).accepted
    typing_only = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import numpy\n"
    assert analyze_in_process(typing_only, ALLOWED).accepted
    assert not analyze_in_process(typing_only.replace("from typing import", "TYPE_CHECKING = 1 #"), ALLOWED).accepted


def test_analysis_never_runs_the_code():
    assert not analyze_in_process("raise SystemExit(3)\nimport os\nos._exit(4)", ALLOWED).accepted


def test_empty_source_is_accepted_by_analysis():
    assert analyze_in_process("", ALLOWED).accepted
