"""`CheckpointDirectory`: an emitted checkpoint on disk, the one object every loader reads it through.

It holds the validated manifest (`manifest.read_manifest`, refused with a rebuild message when this installation
cannot honour it), checks the files against the manifest's sizes and hashes, and gives the module code and the
tensors by name: transformers' weights from `model.safetensors` (or its shards) and the graph's own from
`graph_tensors.safetensors`, read whole, by rows, or as meta tensors (`rewrite.tensor_files`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from .errors import CheckpointError
from .manifest import GRAPH_TENSORS_NAME, MODULE_NAME, check_compatible, file_digest, read_manifest
from .module_roles import ModuleRoles
from .spec import GraphSpec
from .tensor_files import WEIGHTS_INDEX_FILE, TensorFiles, transformers_weight_files

REBUILD = "rebuild the checkpoint with `rewrite build`"


class CheckpointDirectory:
    """A directory `rewrite build` wrote, its manifest validated and judged compatible on construction."""

    def __init__(self, directory: str | os.PathLike):
        from .pipeline import available_passes

        self.path = Path(directory)
        self.manifest = read_manifest(self.path)
        check_compatible(self.manifest, set(available_passes()))
        self.spec = GraphSpec.from_json(self.manifest["spec"])
        self.roles = ModuleRoles.from_json(self.manifest["roles"])

    def module_source(self) -> str:
        return (self.path / MODULE_NAME).read_text()

    def check_files(self, verify_checksums: bool = True) -> None:
        """Every file the manifest lists is there with its size (and, with `verify_checksums`, its sha256), and every
        file the loader reads is among them."""
        for name, expected in self.manifest["files"].items():
            path = self.path / name
            if not path.is_file():
                raise CheckpointError(f"{path} is missing; the checkpoint is incomplete, {REBUILD}")
            size = path.stat().st_size
            if size != expected["bytes"]:
                raise CheckpointError(
                    f"{path} has {size} bytes, the manifest says {expected['bytes']}: the file is truncated "
                    f"or was replaced; {REBUILD}"
                )
            if verify_checksums and file_digest(path)["sha256"] != expected["sha256"]:
                raise CheckpointError(f"{path} is corrupt (sha256 differs from the manifest); {REBUILD}")
        read = [MODULE_NAME, GRAPH_TENSORS_NAME, *(path.name for path in transformers_weight_files(self.path, REBUILD)),
                *([WEIGHTS_INDEX_FILE] if (self.path / WEIGHTS_INDEX_FILE).is_file() else [])]
        unlisted = [name for name in read if name not in self.manifest["files"]]
        if unlisted:
            raise CheckpointError(
                f"{self.path}'s manifest does not list {', '.join(unlisted)}, which loading reads, so it cannot be "
                f"checked; {REBUILD}"
            )

    def tensor_names(self) -> list[str]:
        """Every tensor the module is built from, transformers' weights first."""
        tensors = self.manifest["tensors"]
        return [*tensors["from_transformers"], *tensors["graph_only"]]

    def stored_name(self, name: str) -> str:
        """The name tensor `name` of the module has in the files (OpenAI's `*_blocks` for MXFP4 expert blocks)."""
        return self.manifest["tensors"]["stored_as"].get(name, name)

    def tensors(self, device: str | torch.device = "cpu") -> TensorFiles:
        """The checkpoint's tensor files opened for reading onto `device`; every manifest tensor is in them."""
        paths = [*transformers_weight_files(self.path, REBUILD), self.path / GRAPH_TENSORS_NAME]
        files = TensorFiles(paths, device, REBUILD)
        files.require(self.stored_name(name) for name in self.tensor_names())
        return files
