"""Helpers for tests that break a copy of a checkpoint: copy it, edit one of its JSON files."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path


def scratch_copy(directory: Path, tmp_path: Path) -> Path:
    """A copy of `directory` under `tmp_path` that a test may damage."""
    copy = tmp_path / "copy"
    shutil.copytree(directory, copy)
    return copy


def edit_json(path: Path, edit: Callable[[dict], object]) -> None:
    """Apply `edit` to the JSON object in `path` in place."""
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
