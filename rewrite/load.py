"""`load(DIR)`: a checkpoint directory back to a runnable `RewrittenGptOss`, refusing what it cannot trust."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from .codegen import module_from_source
from .errors import CheckpointError
from .manifest import GRAPH_TENSORS_NAME, MODULE_NAME, check_compatible, file_digest, read_manifest
from .model import RewrittenGptOss
from .pipeline import available_passes
from .spec import GraphSpec


def load(
    directory: str | os.PathLike, device: str | torch.device | None = None, verify_checksums: bool = True
) -> RewrittenGptOss:
    """Load a checkpoint written by `rewrite build`.

    Raises `CheckpointError` for a directory that is not such a checkpoint, a manifest this
    installation cannot honour (format or torch version, unknown passes), and missing, truncated or
    corrupt files. `verify_checksums=False` skips hashing the weights (sizes are still checked).
    """
    directory = Path(directory)
    manifest = read_manifest(directory)
    check_compatible(manifest, set(available_passes()))
    _check_files(directory, manifest["files"], verify_checksums)
    device = torch.device(device) if device is not None else torch.device("cpu")
    tensors = _read_transformers_weights(directory, manifest["tensors"]["from_transformers"], device)
    tensors.update(_read_safetensors(directory / GRAPH_TENSORS_NAME, manifest["tensors"]["graph_only"], device))
    source = (directory / MODULE_NAME).read_text()
    graph_module = module_from_source(
        source, tensors, set(manifest["tensors"]["parameters"]), manifest.get("modules", {})
    )
    # as transformers' from_pretrained does: peft saves it as an adapter's base_model_name_or_path
    graph_module.name_or_path = str(directory.resolve())
    return RewrittenGptOss(graph_module, GraphSpec.from_json(manifest["spec"]), manifest).eval()


def _check_files(directory: Path, files: dict, verify_checksums: bool) -> None:
    for name, expected in files.items():
        path = directory / name
        if not path.is_file():
            raise CheckpointError(f"{path} is missing; the checkpoint is incomplete, rebuild it")
        size = path.stat().st_size
        if size != expected["bytes"]:
            raise CheckpointError(
                f"{path} has {size} bytes, the manifest says {expected['bytes']}: the file is truncated "
                "or was replaced; rebuild the checkpoint"
            )
        if verify_checksums and file_digest(path)["sha256"] != expected["sha256"]:
            raise CheckpointError(f"{path} is corrupt (sha256 differs from the manifest); rebuild the checkpoint")


def _read_transformers_weights(directory: Path, names: list[str], device) -> dict[str, torch.Tensor]:
    index = directory / "model.safetensors.index.json"
    if index.is_file():
        weight_map = json.loads(index.read_text())["weight_map"]
    else:
        weight_map = {name: "model.safetensors" for name in names}
    by_file: dict[str, list[str]] = {}
    for name in names:
        if name not in weight_map:
            raise CheckpointError(f"weight {name} is missing from {directory}'s safetensors index; rebuild it")
        by_file.setdefault(weight_map[name], []).append(name)
    tensors = {}
    for file_name, file_names in by_file.items():
        tensors.update(_read_safetensors(directory / file_name, file_names, device))
    return tensors


def _read_safetensors(path: Path, names: list[str], device) -> dict[str, torch.Tensor]:
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as handle:
            present = set(handle.keys())
            missing = [name for name in names if name not in present]
            if missing:
                raise CheckpointError(f"{path} lacks {len(missing)} tensors, e.g. {missing[0]}; rebuild the checkpoint")
            return {name: handle.get_tensor(name) for name in names}
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"cannot read {path}: {error}; the file is corrupt, rebuild the checkpoint") from error
