"""The tasks known by name."""

from __future__ import annotations

from runtime.rewards.errors import UnknownTaskError
from runtime.rewards.matmul_task import MATMUL
from runtime.rewards.task import Task

TASKS: dict[str, Task] = {MATMUL.name: MATMUL}


def get_task(name: str) -> Task:
    """The task registered as ``name``; raises ``UnknownTaskError`` listing the known names otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownTaskError(f"unknown task {name!r}; choose one of: {', '.join(sorted(TASKS))}") from None
