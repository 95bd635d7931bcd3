"""Fixtures of the trainer tests: one tiny checkpoint built with the default passes (LoRA needs its linear modules)."""

from __future__ import annotations

import pytest

from rewrite import build


@pytest.fixture(scope="session")
def lora_checkpoint(tmp_path_factory):
    """A default-passes tiny checkpoint; tests must not modify it."""
    return build(tmp_path_factory.mktemp("grpo") / "tiny", preset="tiny")
