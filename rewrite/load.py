"""`load(DIR)`: a checkpoint directory back to a runnable `RewrittenGptOss`, refusing what it cannot trust.

Loading is one sequence for every caller: open the `CheckpointDirectory` (manifest validated and judged
compatible), check its files, take each tensor from a *tensor source*, and execute the module code with them
(`assemble`). The source decides what a tensor becomes: the stored values (`whole`, the default), a meta tensor of
its shape (`on_meta`), or a mix (FSDP sharding reads the units' weights later, row by row). A meta build of a
preset (`rewrite.meta_build`) assembles the same way from the code and manifest it emits in memory.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch

from .checkpoint_directory import CheckpointDirectory
from .codegen import module_from_source
from .model import RewrittenGptOss
from .spec import GraphSpec
from .tensor_files import TensorFiles

TensorSource = Callable[[TensorFiles, str], torch.Tensor]


def whole(files: TensorFiles, name: str) -> torch.Tensor:
    """The tensor's stored values."""
    return files.read(name)


def on_meta(files: TensorFiles, name: str) -> torch.Tensor:
    """A meta tensor of the stored tensor's shape and dtype: nothing is read but the header."""
    return files.meta(name)


def load(
    directory: str | os.PathLike, device: str | torch.device | None = None, verify_checksums: bool = True,
    tensor_source: TensorSource = whole,
) -> RewrittenGptOss:
    """Load a checkpoint written by `rewrite build`, its tensors taken from `tensor_source` onto `device`.

    Raises `CheckpointError` for a directory that is not such a checkpoint, a manifest this installation cannot
    honour (schema, format or torch version, unknown passes), and missing, truncated or corrupt files.
    `verify_checksums=False` skips hashing the weights (sizes are still checked).
    """
    checkpoint = CheckpointDirectory(directory)
    checkpoint.check_files(verify_checksums)
    with checkpoint.tensors(device if device is not None else "cpu") as files:
        tensors = {name: tensor_source(files, checkpoint.stored_name(name)) for name in checkpoint.tensor_names()}
    return assemble(checkpoint.module_source(), checkpoint.manifest, tensors, checkpoint.path.resolve())


def assemble(source_code: str, manifest: dict, tensors: dict[str, torch.Tensor],
             name_or_path: Path | None = None) -> RewrittenGptOss:
    """The module that `source_code` defines, holding `tensors`, with the manifest's spec and roles."""
    graph_module = module_from_source(source_code, tensors, set(manifest["tensors"]["parameters"]),
                                      manifest["modules"])
    if name_or_path is not None:  # as transformers' from_pretrained does: peft saves it as base_model_name_or_path
        graph_module.name_or_path = str(name_or_path)
    return RewrittenGptOss(graph_module, GraphSpec.from_json(manifest["spec"]), manifest).eval()
