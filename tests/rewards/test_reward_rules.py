"""Every rule keeps its own promises: its INVALID examples are reported, its VALID ones are not."""

from __future__ import annotations

import pytest

from runtime.rewards import ALL_RULES
from runtime.rewards.lint_rule import EXAMPLE_ALLOWED_MODULES
from runtime.rewards.static_analysis import analyze_in_process
from runtime.rewards.verdict import UNANALYSED_RULES

EXAMPLES = [
    pytest.param(rule, example, expected, id=f"{rule.name}-{kind}-{index}")
    for rule in ALL_RULES
    for kind, examples, expected in (("valid", rule.VALID, False), ("invalid", rule.INVALID, True))
    for index, example in enumerate(examples)
]


@pytest.mark.parametrize(("rule", "example", "reported"), EXAMPLES)
def test_rule_reports_exactly_its_invalid_examples(rule, example, reported):
    verdict = analyze_in_process(example, EXAMPLE_ALLOWED_MODULES, rules=(rule,))
    assert verdict.analysed, f"example cannot be analysed: {example!r}: {verdict.findings}"
    assert (rule.name in verdict.rules) is reported, [str(finding) for finding in verdict.findings]


@pytest.mark.parametrize("rule", ALL_RULES, ids=[rule.name for rule in ALL_RULES])
def test_every_rule_has_a_docstring_and_examples_of_both_kinds(rule):
    assert rule.__doc__ and rule.VALID and rule.INVALID


@pytest.mark.parametrize("rule", ALL_RULES, ids=[rule.name for rule in ALL_RULES])
def test_valid_examples_pass_every_rule(rule):
    """An example of what one rule allows is honest code, which no other rule may reject either."""
    for example in rule.VALID:
        verdict = analyze_in_process(example, EXAMPLE_ALLOWED_MODULES)
        assert verdict.accepted, (example, [str(finding) for finding in verdict.findings])


def test_rule_names_are_unique_and_distinct_from_the_unanalysed_verdicts():
    names = [rule.name for rule in ALL_RULES]
    assert len(set(names)) == len(names)
    assert not UNANALYSED_RULES & set(names)


@pytest.mark.parametrize(("example", "reported"), [
    ("from collections import abc\nis_sequence = isinstance([], abc.Sequence)", False),
    ("from collections import abc as containers\nkinds = containers.Sequence, containers.Mapping", False),
    ("from collections import abc\nmodule = abc", True),
    ("from collections import abc\nloader = abc._private", True),
])
def test_an_allowed_submodule_from_imported_is_a_module(example, reported):
    """``from collections import abc`` binds the allowed module ``collections.abc``: its attributes are checked
    as that module's, and it may not be used as a value."""
    verdict = analyze_in_process(example, EXAMPLE_ALLOWED_MODULES | {"collections", "collections.abc"})
    assert (not verdict.accepted) is reported, [str(finding) for finding in verdict.findings]
