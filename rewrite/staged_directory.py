"""Write a directory atomically: into a hidden sibling, renamed into place only once everything is written.

The sibling's name holds the writing process's pid, so the next write of the same directory deletes what a
killed writer left behind.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import CheckpointError


@contextmanager
def staged_directory(out: Path, force: bool = False) -> Iterator[Path]:
    """A new empty hidden directory beside `out` to write into. When the block ends it becomes `out` (an existing
    `out` is renamed away first and then deleted); when the block raises it is deleted and `out` is left as it was.

    Raises `CheckpointError` before the block runs when `out` exists and `force` is false.
    """
    if out.exists() and not force:
        raise CheckpointError(f"{out} already exists; pass --force (force=True) to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out)
    staging = out.parent / f".{out.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        _replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _remove_leftovers(out: Path) -> None:
    """Delete the staging and retired directories of `out` that a killed process left (its pid is in the name and
    no longer runs); those of a live process are its own business."""
    for leftover in out.parent.glob(f".{out.name}.*-*"):
        kind, _, rest = leftover.name.removeprefix(f".{out.name}.").partition("-")
        pid = rest.split("-")[0]
        if kind in ("partial", "old") and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _replace(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    retired = out.parent / f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    out.rename(retired)
    staging.rename(out)
    if retired.is_dir():
        shutil.rmtree(retired)
    else:
        retired.unlink()
