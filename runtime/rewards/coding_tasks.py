"""The coding tasks the judge knows by name (`reward-check --task NAME`, `get_coding_task`)."""

from __future__ import annotations

from runtime.rewards.coding_task import CodingTask
from runtime.rewards.errors import UnknownCodingTaskError
from runtime.rewards.matmul_task import MATMUL

CODING_TASKS: dict[str, CodingTask] = {MATMUL.name: MATMUL}


def get_coding_task(name: str) -> CodingTask:
    """The coding task registered as ``name``; raises ``UnknownCodingTaskError`` listing the known names
    otherwise."""
    try:
        return CODING_TASKS[name]
    except KeyError:
        known = ", ".join(sorted(CODING_TASKS))
        raise UnknownCodingTaskError(f"unknown coding task {name!r}; choose one of: {known}") from None
