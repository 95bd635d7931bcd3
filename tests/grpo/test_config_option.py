"""`option(default, help, choices=...)` declares a `GRPOConfig` field as `dataclasses.field` would, with metadata."""

import dataclasses

import pytest

from runtime.grpo.config_option import option


@dataclasses.dataclass
class _Fields:
    steps: int = option(10, "Optimizer steps.")
    mode: str = option("no", "When to evaluate.", choices=("no", "steps"))


def test_an_option_has_its_default_and_its_help_and_choices_as_metadata():
    steps, mode = dataclasses.fields(_Fields)
    assert (steps.default, dict(steps.metadata)) == (10, {"help": "Optimizer steps."})
    assert (mode.default, dict(mode.metadata)) == ("no", {"help": "When to evaluate.", "choices": ("no", "steps")})
    assert _Fields() == _Fields(steps=10, mode="no")


def test_a_mutable_default_is_refused_as_dataclasses_refuse_it():
    with pytest.raises(ValueError, match="mutable default"):
        @dataclasses.dataclass
        class _Bad:
            targets: list = option([], "Modules.")
