"""The JSON-lines files a run appends one record at a time (log.jsonl, completions.jsonl): each line is a JSON
object with a "step". A last line cut short by a killed process ends the file; what follows it is not read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path


def read_log(path: Path) -> list[dict]:
    """The records of a JSON-lines log, in order; [] when the file does not exist."""
    return [record for _, record in _lines_and_records(path)]


def drop_steps_after(path: Path, last_step: int) -> None:
    """Keep the lines of steps up to `last_step` and drop the rest, a cut-short last line included: a run resumed
    from checkpoint-`last_step` logs the later steps again. A missing file stays missing."""
    if path.is_file():
        path.write_text("".join(line + "\n" for line, record in _lines_and_records(path)
                                if record["step"] <= last_step))


def _lines_and_records(path: Path) -> Iterator[tuple[str, dict]]:
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return
        yield line, record
