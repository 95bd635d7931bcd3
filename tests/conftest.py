"""Shared fixtures: one tiny seeded gpt-oss model, its capture and a built checkpoint per session."""

from __future__ import annotations

import pytest
import torch

from rewrite import build, build_preset, capture


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/*.txt from the current graphs instead of comparing (review the git diff)",
    )


@pytest.fixture(scope="session")
def update_golden(request) -> bool:
    return request.config.getoption("--update-golden")


@pytest.fixture(scope="session")
def tiny_model():
    torch.manual_seed(0)
    return build_preset("tiny")


@pytest.fixture()
def tiny_graph(tiny_model):
    """A fresh capture for each test, since passes edit graphs in place."""
    return capture(tiny_model)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory):
    """A checkpoint of the tiny preset with the structure passes alone; tests must not modify it (copy it first)."""
    out = tmp_path_factory.mktemp("checkpoints") / "tiny-none"
    return build(out, preset="tiny", passes="none")


@pytest.fixture(scope="session")
def full_checkpoint(tmp_path_factory):
    """A checkpoint of the tiny preset built with the default passes; tests must not modify it."""
    return build(tmp_path_factory.mktemp("checkpoints") / "tiny-default", preset="tiny")
