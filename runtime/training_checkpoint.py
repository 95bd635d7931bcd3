"""A training checkpoint (RUN/checkpoint-N) read for use outside training: its adapter and the base it trained.

A run's identity (trainer_state.json) records its base model by graph hash and source, and peft records the base
build's directory as the adapter's `base_model_name_or_path` (`rewrite.load` names it as transformers does). The
base is looked for there, then in RUN/base (where `rewrite train --preset` builds it); a directory found either way
must hold a build of the recorded graph hash. A base named by the caller is taken as given: e.g. the full-precision
build of a run trained on its 4-bit build.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from rewrite.errors import RewriteError
from rewrite.manifest import MANIFEST_NAME, read_manifest
from runtime.grpo.checkpoints import TRAINER_STATE, list_checkpoints, read_trainer_state
from runtime.grpo.train_command import BASE_DIR
from runtime.peft_adapter import ADAPTER_CONFIG, ADAPTER_WEIGHTS


class TrainingCheckpointError(RewriteError):
    """A path that is not a training checkpoint, or whose base build cannot be found."""


@dataclass(frozen=True)
class TrainingCheckpoint:
    """A checkpoint-N directory: its adapter config and the identity of the base model it trained."""

    directory: Path
    adapter_config: dict
    base_model: dict  # {"graph_hash": ..., "source": {...}}, from the run's identity

    @property
    def recorded_base(self) -> Path | None:
        """Where the base build was when the adapter was saved (None when peft recorded no directory)."""
        recorded = self.adapter_config.get("base_model_name_or_path")
        return Path(recorded) if recorded else None


def read_training_checkpoint(path: str | os.PathLike) -> TrainingCheckpoint:
    """The checkpoint at `path`; `TrainingCheckpointError` when it is not a complete training checkpoint."""
    directory = Path(path)
    if not directory.is_dir():
        raise TrainingCheckpointError(f"{directory} is not a directory: pass a RUN/checkpoint-N directory")
    missing = [name for name in (TRAINER_STATE, ADAPTER_CONFIG, ADAPTER_WEIGHTS) if not (directory / name).is_file()]
    if missing:
        raise TrainingCheckpointError(
            f"{directory} is not a training checkpoint (it lacks {', '.join(missing)}): {_suggestion(directory)}"
        )
    try:
        identity = read_trainer_state(directory).identity
        adapter_config = json.loads((directory / ADAPTER_CONFIG).read_text())
    except (ValueError, KeyError, TypeError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise TrainingCheckpointError(
            f"{directory}'s {TRAINER_STATE} or {ADAPTER_CONFIG} cannot be read ({error!r}): use another checkpoint "
            "of the run"
        ) from error
    return TrainingCheckpoint(directory, adapter_config, identity["model"])


def find_base(checkpoint: TrainingCheckpoint, base: str | os.PathLike | None = None) -> Path:
    """The directory of the base model `checkpoint` was trained on: `base` when given, else the recorded build or
    RUN/base, whichever holds a build of the run's graph hash. Raises `TrainingCheckpointError` saying where it
    looked when none does."""
    if base is not None:
        base = Path(base)
        if not (base / "config.json").is_file():
            raise TrainingCheckpointError(
                f"--base {base} is not a model directory (no config.json): pass the build the run trained"
            )
        return base
    expected = checkpoint.base_model.get("graph_hash")
    looked = []
    for where, path in (("recorded by the run", checkpoint.recorded_base),
                        ("the run's base", checkpoint.directory.parent / BASE_DIR)):
        if path is None:
            looked.append(f"no directory {where}")
        elif not (path / MANIFEST_NAME).is_file():
            looked.append(f"{path} ({where}: no build there)")
        elif (found := read_manifest(path).get("graph_hash")) != expected:
            looked.append(f"{path} ({where}: another build, graph hash {str(found)[:16]})")
        else:
            return path
    raise TrainingCheckpointError(
        f"cannot find the base build {checkpoint.directory} was trained on (graph hash {str(expected)[:16]}, "
        f"source {checkpoint.base_model.get('source')}); looked at {'; '.join(looked)}. Pass --base DIR, the build "
        "given to `rewrite train`."
    )


def _suggestion(directory: Path) -> str:
    checkpoints = list_checkpoints(directory)
    if checkpoints:
        return f"it is a run directory; pass one of its checkpoints, e.g. {checkpoints[-1]}"
    return "pass a RUN/checkpoint-N directory written by `rewrite train`"
