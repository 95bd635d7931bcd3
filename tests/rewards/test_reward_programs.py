"""The sample programs: every cheat is rejected for its reason, every honest solution is accepted."""

from __future__ import annotations

import re

from runtime.rewards import evaluate

EXPECTED_RULE = re.compile(r"^# expect: (\S+)$", re.MULTILINE)


def test_cheating_program_is_rejected_by_the_rule_it_breaks(cheat_program, quick_matmul):
    source = cheat_program.read_text()
    [expected_rule] = EXPECTED_RULE.findall(source)
    evaluation = evaluate(source, quick_matmul, seed=0)
    assert evaluation.verdict == "reject"
    assert expected_rule in evaluation.rules, [str(finding) for finding in evaluation.findings]


def test_honest_program_is_accepted_by_the_whole_pipeline(honest_program, quick_matmul):
    evaluation = evaluate(honest_program.read_text(), quick_matmul, seed=0)
    assert evaluation.verdict == "accept", [str(finding) for finding in evaluation.findings]
    assert evaluation.stage == "ok" and evaluation.speedup > 0
