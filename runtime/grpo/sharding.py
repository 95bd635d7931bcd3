"""`--fsdp`: the frozen base model sharded across the processes with FSDP2, built on the meta device.

`load_sharded_policy(DIR, distributed)` builds the emitted module with meta tensors for the weights of the sharded
units (`model.embed_tokens` and every decoder layer `model.layers.<i>`), applies
`torch.distributed.fsdp.fully_shard` to each unit, allocates only this process's shard of each weight and reads
just those rows from the checkpoint's safetensors files. No process ever holds a whole unit's weights at rest; the
rest (final norm, rotary tables, and lm_head) is loaded whole on every process, since
the log-probs call lm_head outside the graph, chunk by chunk. LoRA adapters are attached
afterwards (so they initialise as in a single-process run) and stay whole on every process: FSDP manages only the
base weights, which are frozen, so it never reduces a gradient.

`load_sharded_policy(UnbuiltPreset(NAME), distributed)` needs no checkpoint: the module is what a build of the preset
would load back, built on the meta device (`rewrite.meta_build`), and each process draws its rows of every weight
(`rewrite.random_weights`: the same values however many processes share them, not the build's values). The
rotary tables are computed from the config as a build computes them. That is how `rewrite train --preset NAME
--fsdp` trains gpt-oss-120b on several GPUs without first writing the build to disk.

The units are the modules the manifest declares by role (`rewrite.module_roles`): the embedding and each decoder
layer, all called by the graph as modules, so FSDP's forward and backward hooks all-gather a unit around each call
and free it after: a process holds one layer whole at a time, in generation as in the log-probs and their
backward pass. Every model call is then a sequence of collectives, so the processes must make the same calls:
generation runs its decode steps in lockstep over `process_group` (`GenerationEngine(lockstep_group=...)`: a
process whose completions have all stopped keeps stepping, its outputs unchanged, until every process's have).

What generation costs: every decode step all-gathers every layer, so each process receives about the model's size
times (N-1)/N bytes per step, runs eagerly (no compiled decode step, no CUDA graphs), and decodes as many steps as
the slowest process. It is bound by the interconnect, far slower than unsharded generation: use `--fsdp` only when
the model does not fit one GPU; when it fits, plain data parallelism (no `--fsdp`) generates at full speed
(measurements: docs/benchmarks.md).

Run it without `PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True` (`load_sharded_policy` warns): with it, each of
FSDP2's per-layer all-gather allocations is slow (docs/benchmarks.md).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import FSDPModule, fully_shard
from torch.distributed.tensor import DTensor
from transformers import GptOssConfig

from rewrite import random_weights
from rewrite.checkpoint_directory import CheckpointDirectory
from rewrite.load import load
from rewrite.meta_build import build_on_meta
from rewrite.meta_model import replace_tensor
from rewrite.model import RewrittenGptOss
from rewrite.module_roles import ModuleRoles
from rewrite.presets import preset_config
from rewrite.source import default_dtype
from rewrite.tensor_files import TensorFiles
from runtime.grpo.distributed import Distributed
from runtime.grpo.errors import GRPOConfigError, GRPOModelError

EXPANDABLE_SEGMENTS_WARNING = (
    "fsdp: PYTORCH_CUDA_ALLOC_CONF sets expandable_segments:True, which makes every per-layer all-gather's "
    "allocation slow (a gpt-oss-120b step took 5x the CPU time with it); unset it for --fsdp runs."
)


def expandable_segments_enabled(environment: dict[str, str]) -> bool:
    """Whether the CUDA allocator settings in `environment` (torch reads either variable) turn on expandable
    segments."""
    settings = ",".join(environment.get(name, "") for name in ("PYTORCH_CUDA_ALLOC_CONF", "PYTORCH_ALLOC_CONF"))
    return "expandable_segments:true" in settings.replace(" ", "").lower()


@dataclass(frozen=True)
class UnbuiltPreset:
    """A preset to train with `fsdp` without a checkpoint on disk: its shape, random weights drawn per shard."""

    name: str


@dataclass
class ShardedBase:
    """The FSDP units of a sharded base model by module name, and the process group that gathers them.

    Every process of `process_group` must make the same model calls, in the same order: each is a collective.
    """

    units: dict[str, FSDPModule]
    process_group: dist.ProcessGroup


def sharded_unit_names(roles: ModuleRoles) -> list[str]:
    """The modules sharded as units: the token embedding and each decoder layer."""
    return [roles.embedding, *roles.layers]


def load_sharded_policy(
    model: str | Path | RewrittenGptOss | UnbuiltPreset, distributed: Distributed
) -> tuple[RewrittenGptOss, Path | GptOssConfig, ShardedBase]:
    """The checkpoint directory `model` (or the `UnbuiltPreset`) with its base weights sharded across the processes.

    Returns the model, where its special tokens are named (the directory, or the preset's config), and the
    `ShardedBase`. Raises `GRPOConfigError` outside torchrun
    (or for a model already loaded), `CheckpointError` for a directory `rewrite build` did not write or whose weight
    files cannot be read, `UnsupportedModelError` for an unknown preset.
    """
    if isinstance(model, RewrittenGptOss) or distributed.world_size == 1:
        raise GRPOConfigError(
            "fsdp shards the base model across processes while loading it: launch with "
            "`torchrun --nproc_per_node N` (N >= 2) and pass the checkpoint directory or a preset, or leave out --fsdp."
        )
    if distributed.device.type == "cuda" and distributed.is_main and expandable_segments_enabled(os.environ):
        warnings.warn(EXPANDABLE_SEGMENTS_WARNING, stacklevel=2)
    if isinstance(model, UnbuiltPreset):
        return _sharded_preset(model.name, distributed)
    return _sharded_checkpoint(Path(model), distributed)


def _sharded_checkpoint(directory: Path, distributed: Distributed) -> tuple[RewrittenGptOss, Path, ShardedBase]:
    checkpoint = CheckpointDirectory(directory)
    unit_names = sharded_unit_names(checkpoint.roles)

    def units_on_meta(files: TensorFiles, name: str) -> torch.Tensor:
        return files.meta(name) if _in_units(name, unit_names) else files.read(name)

    model = load(directory, distributed.device, verify_checksums=False, tensor_source=units_on_meta)
    with checkpoint.tensors("cpu") as files:

        def read_rows(name: str, local: torch.Tensor, start: int, shape: torch.Size) -> None:
            rows = files.read_rows(checkpoint.stored_name(name), start, start + local.shape[0])
            local.copy_(rows.to(local.device))

        sharded_base = _shard_units(model.graph_module, unit_names, distributed, read_rows)
    return model, directory, sharded_base


def _sharded_preset(name: str, distributed: Distributed) -> tuple[RewrittenGptOss, GptOssConfig, ShardedBase]:
    config = preset_config(name)
    model = build_on_meta(name, dtype=default_dtype(distributed.device))
    model.manifest["source"]["weights"] = random_weights.DESCRIPTION

    def draw_rows(tensor_name: str, local: torch.Tensor, start: int, shape: torch.Size) -> None:
        random_weights.fill_rows(local, tensor_name, shape, start, config.initializer_range)

    unit_names = sharded_unit_names(model.roles)
    sharded_base = _shard_units(model.graph_module, unit_names, distributed, draw_rows)
    for tensor_name, tensor in [*model.graph_module.named_parameters(), *model.graph_module.named_buffers()]:
        if not _in_units(tensor_name, unit_names):
            whole = torch.empty_like(tensor, device=distributed.device)
            if tensor.is_meta:
                draw_rows(tensor_name, whole, 0, tensor.shape)
            else:
                whole.copy_(tensor)  # a buffer computed from the config (RoPE's inv_freq)
            replace_tensor(model.graph_module, tensor_name, whole)
    return model, config, sharded_base


def _shard_units(
    graph_module: torch.nn.Module, unit_names: list[str], distributed: Distributed,
    fill_rows: Callable[[str, torch.Tensor, int, torch.Size], None],
) -> ShardedBase:
    """`fully_shard` each unit of `graph_module` (frozen first: LoRA adds the trainable parameters later), allocate
    this process's part of its tensors and fill it with `fill_rows(name, local, first row, whole shape)`."""
    graph_module.requires_grad_(False)
    mesh = init_device_mesh(distributed.device.type, (distributed.world_size,))
    units = {}
    for unit_name in unit_names:
        unit = _submodule(graph_module, unit_name)
        fully_shard(unit, mesh=mesh, reshard_after_forward=True)
        unit.to_empty(device=distributed.device)
        with torch.no_grad():
            for local_name, tensor in [*unit.named_parameters(), *unit.named_buffers()]:
                name = f"{unit_name}.{local_name}"
                fill_rows(name, *_local_rows(tensor, name, distributed), tensor.shape)
        units[unit_name] = unit
    return ShardedBase(units, mesh.get_group())


def _local_rows(tensor: torch.Tensor, name: str, distributed: Distributed) -> tuple[torch.Tensor, int]:
    """(what this process holds of a unit's tensor, the index of its first row): the shard of a sharded parameter,
    anything else whole."""
    if not isinstance(tensor, DTensor):
        return tensor, 0
    local = tensor.to_local()
    start, end = _shard_rows(tensor.shape[0], distributed)
    if local.shape[0] != end - start:
        raise GRPOModelError(f"{name}: FSDP holds {local.shape[0]} rows here, expected {end - start}.")
    return local, start


def _in_units(name: str, unit_names: list[str]) -> bool:
    return any(name.startswith(f"{unit_name}.") for unit_name in unit_names)


def _submodule(graph_module: torch.nn.Module, name: str) -> torch.nn.Module:
    try:
        return graph_module.get_submodule(name)
    except AttributeError as error:
        raise GRPOModelError(
            f"the checkpoint's module has no {name} (transformers' module names): rebuild it with `rewrite build`."
        ) from error


def _shard_rows(rows: int, distributed: Distributed) -> tuple[int, int]:
    """The rows [start, end) of a dim-0 sharded tensor that this process holds (torch.chunk's split, as FSDP2)."""
    per_process = -(-rows // distributed.world_size)
    start = min(distributed.rank * per_process, rows)
    return start, min(start + per_process, rows)
