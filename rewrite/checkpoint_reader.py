"""Read a transformers checkpoint's safetensors weights one tensor at a time, with clear errors.

A checkpoint keeps its weights in `model.safetensors`, or in shards listed by `model.safetensors.index.json`
(the layout `save_pretrained` writes and the released gpt-oss checkpoints use). Opening checks that every
weight file is there and complete; reading returns one tensor, so the whole state dict never exists at once.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from .errors import CheckpointError

SINGLE_WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX_FILE = "model.safetensors.index.json"

_REPAIR_HINT = "copy or download the checkpoint again (or write it with save_pretrained)"


def weight_files(directory: Path) -> list[Path]:
    """The safetensors files of `directory`: the shards its index names, or its single weights file."""
    index_path = directory / WEIGHTS_INDEX_FILE
    if index_path.is_file():
        try:
            weight_map = json.loads(index_path.read_text())["weight_map"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise CheckpointError(
                f"{index_path} is not a safetensors index (no readable weight_map: {error}); {_REPAIR_HINT}"
            ) from error
        return [directory / name for name in sorted(set(weight_map.values()))]
    if (directory / SINGLE_WEIGHTS_FILE).is_file():
        return [directory / SINGLE_WEIGHTS_FILE]
    raise CheckpointError(
        f"{directory} has no safetensors weights (neither {SINGLE_WEIGHTS_FILE} nor {WEIGHTS_INDEX_FILE}); "
        f"gpt-oss-rewrite reads safetensors checkpoints: {_REPAIR_HINT}"
    )


class CheckpointTensors:
    """The tensors of a checkpoint directory by name, each read on demand onto `device`.

    Every weight file is opened (its header checked against its size) on construction, so a missing or
    truncated file raises `CheckpointError` before anything is loaded. Use as a context manager.
    """

    def __init__(self, directory: Path, device: str | torch.device = "cpu"):
        self._handles = {path: _open(path, device) for path in weight_files(directory)}
        self._file_of = {name: path for path, handle in self._handles.items() for name in handle.keys()}

    def names(self) -> set[str]:
        return set(self._file_of)

    def __contains__(self, name: str) -> bool:
        return name in self._file_of

    def read(self, name: str) -> torch.Tensor:
        """One tensor, in the dtype it is stored in."""
        path = self._file_of[name]
        try:
            return self._handles[path].get_tensor(name)
        except SafetensorError as error:
            raise CheckpointError(f"cannot read {name} from {path}: {error}; {_REPAIR_HINT}") from error

    def __enter__(self) -> CheckpointTensors:
        return self

    def __exit__(self, *exc_info) -> None:
        self._handles.clear()
        self._file_of.clear()


def checkpoint_tensor_names(directory: Path) -> set[str]:
    """The names of every tensor in the checkpoint; raises `CheckpointError` for a missing or truncated file."""
    with CheckpointTensors(directory) as tensors:
        return tensors.names()


def _open(path: Path, device: str | torch.device):
    if not path.is_file():
        raise CheckpointError(f"weight file {path} is missing; {_REPAIR_HINT}")
    try:
        return safe_open(path, framework="pt", device=str(device))
    except SafetensorError as error:
        raise CheckpointError(
            f"weight file {path} is truncated or not safetensors ({error}); {_REPAIR_HINT}"
        ) from error
