"""Shared fixtures of the reward tests: the sample programs and a quick matmul task."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from runtime.rewards import MATMUL, CodingTask, SandboxLimits

PROGRAMS = Path(__file__).parent / "programs"


def program_paths(kind: str) -> list[Path]:
    """The sample programs of one kind: ``"cheat"`` or ``"honest"``."""
    return sorted((PROGRAMS / kind).glob("*.py"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test asking for ``cheat_program`` or ``honest_program`` runs once per such file, named after it."""
    for kind in ("cheat", "honest"):
        if f"{kind}_program" in metafunc.fixturenames:
            paths = program_paths(kind)
            metafunc.parametrize(f"{kind}_program", paths, ids=[path.stem for path in paths])


@pytest.fixture(scope="session")
def sample_programs() -> list[Path]:
    """Every sample program, cheats first."""
    return program_paths("cheat") + program_paths("honest")


@pytest.fixture(scope="session")
def honest_sources() -> list[str]:
    return [path.read_text() for path in program_paths("honest")]


@pytest.fixture(scope="session")
def quick_matmul() -> CodingTask:
    """The matmul task with a small benchmark and tight limits, so that each evaluation is quick."""
    return dataclasses.replace(
        MATMUL, benchmark_shape=(12, 12, 12), benchmark_loops=3,
        limits=SandboxLimits(wall_seconds=10.0, cpu_seconds=5.0, memory_bytes=512 << 20),
    )
