"""Write a directory atomically: into a hidden sibling, renamed into place only once everything is written."""

from __future__ import annotations

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
    staging = out.parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        yield staging
        _replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _replace(staging: Path, out: Path) -> None:
    if not out.exists():
        staging.rename(out)
        return
    retired = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    out.rename(retired)
    staging.rename(out)
    if retired.is_dir():
        shutil.rmtree(retired)
    else:
        retired.unlink()
