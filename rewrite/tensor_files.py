"""The one place that opens safetensors files for reading: tensors by name across a set of files.

A transformers checkpoint keeps its weights in `model.safetensors`, or in shards listed by
`model.safetensors.index.json` (the layout `save_pretrained` writes and the released gpt-oss checkpoints use); an
emitted checkpoint adds `graph_tensors.safetensors`; an adapter is one file. `TensorFiles` opens each file once
(its header checked against its size, so a missing or truncated file fails before anything is read) and reads one
tensor, some rows of one, or its shape alone, so no state dict ever needs to exist whole. Every failure is a
`CheckpointError` that names the file and says what to do (`repair`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from .errors import CheckpointError

SINGLE_WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX_FILE = "model.safetensors.index.json"
TRANSFORMERS_REPAIR = "copy or download the checkpoint again (or write it with save_pretrained)"


def transformers_weight_files(directory: Path, repair: str = TRANSFORMERS_REPAIR) -> list[Path]:
    """The safetensors files of a transformers checkpoint directory: the shards its index names, or its single
    weights file (nothing is opened here; `TensorFiles` checks them)."""
    index_path = directory / WEIGHTS_INDEX_FILE
    if index_path.is_file():
        try:
            weight_map = json.loads(index_path.read_text())["weight_map"]
            return [directory / str(name) for name in sorted(set(weight_map.values()))]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as error:
            raise CheckpointError(
                f"{index_path} is not a safetensors index (no readable weight_map: {error}); {repair}"
            ) from error
    if (directory / SINGLE_WEIGHTS_FILE).is_file():
        return [directory / SINGLE_WEIGHTS_FILE]
    raise CheckpointError(
        f"{directory} has no safetensors weights (neither {SINGLE_WEIGHTS_FILE} nor {WEIGHTS_INDEX_FILE}); "
        f"gpt-oss-rewrite reads safetensors checkpoints: {repair}"
    )


def transformers_tensors(directory: Path, device: str | torch.device = "cpu") -> TensorFiles:
    """The weights of a transformers checkpoint directory (every shard its index names, or its single file)."""
    return TensorFiles(transformers_weight_files(directory), device)


class TensorFiles:
    """The tensors of some safetensors files by name, each read on demand onto `device`.

    Every file is opened on construction; a name held by two files is an error. Use as a context manager (the
    handles are dropped on exit).
    """

    def __init__(self, paths: Iterable[Path], device: str | torch.device = "cpu", repair: str = TRANSFORMERS_REPAIR):
        self._repair = repair
        self._handles = {Path(path): _open(Path(path), device, repair) for path in paths}
        self._file_of: dict[str, Path] = {}
        for path, handle in self._handles.items():
            for name in handle.keys():
                if name in self._file_of:
                    raise CheckpointError(f"{name} is stored twice, in {self._file_of[name]} and {path}; {repair}")
                self._file_of[name] = path

    def names(self) -> set[str]:
        return set(self._file_of)

    def __contains__(self, name: str) -> bool:
        return name in self._file_of

    def require(self, names: Iterable[str]) -> None:
        """Raise `CheckpointError` naming the first of `names` that no file holds."""
        missing = sorted(set(names) - self._file_of.keys())
        if missing:
            raise CheckpointError(f"the weights lack {len(missing)} tensors, e.g. {missing[0]}; {self._repair}")

    def read(self, name: str) -> torch.Tensor:
        """One tensor, in the dtype it is stored in."""
        path = self._path(name)
        try:
            return self._handles[path].get_tensor(name)
        except SafetensorError as error:
            raise CheckpointError(f"cannot read {name} from {path}: {error}; {self._repair}") from error

    def read_rows(self, name: str, start: int, stop: int) -> torch.Tensor:
        """Rows [start, stop) of a tensor's first dimension, without reading the rest."""
        path = self._path(name)
        try:
            return self._handles[path].get_slice(name)[start:stop]
        except SafetensorError as error:
            raise CheckpointError(f"cannot read rows of {name} from {path}: {error}; {self._repair}") from error

    def meta(self, name: str) -> torch.Tensor:
        """A meta tensor of the stored tensor's shape and dtype, from the file header alone."""
        tensor_slice = self._handles[self._path(name)].get_slice(name)
        return torch.empty(tensor_slice.get_shape(), dtype=tensor_slice[:0].dtype, device="meta")

    def _path(self, name: str) -> Path:
        if name not in self._file_of:
            raise CheckpointError(f"no weight file holds {name}; {self._repair}")
        return self._file_of[name]

    def __enter__(self) -> TensorFiles:
        return self

    def __exit__(self, *exc_info) -> None:
        self._handles.clear()
        self._file_of.clear()


def read_tensor_file(path: Path, device: str | torch.device = "cpu", repair: str = TRANSFORMERS_REPAIR) -> dict:
    """Every tensor of one safetensors file (an adapter's), by name."""
    with TensorFiles([path], device, repair) as files:
        return {name: files.read(name) for name in sorted(files.names())}


def _open(path: Path, device: str | torch.device, repair: str):
    if not path.is_file():
        raise CheckpointError(f"weight file {path} is missing; {repair}")
    try:
        return safe_open(str(path), framework="pt", device=str(device))
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"weight file {path} is truncated or not safetensors ({error}); {repair}") from error
