"""`--fsdp`: the frozen base model sharded across the processes with FSDP2, built on the meta device.

`load_sharded_policy(DIR, distributed)` builds the emitted module with meta tensors for the weights of the sharded
units (`model.embed_tokens` and every decoder layer `model.layers.<i>`), applies
`torch.distributed.fsdp.fully_shard` to each unit, allocates only this process's shard of each weight and reads
just those rows from the checkpoint's safetensors files. No process ever holds a whole unit's weights at rest; the
rest (final norm, rotary tables, and lm_head: 1.1 GiB in bf16 on gpt-oss) is loaded whole on every process, since
the log-probs call lm_head outside the graph, chunk by chunk. LoRA adapters are attached
afterwards (so they initialise as in a single-process run) and stay whole on every process: FSDP manages only the
base weights, which are frozen, so it never reduces a gradient.

How a unit's weights are gathered depends on the graph. When the graph calls the unit as a module (checkpoints
built with the layer_modules and embedding_module passes), FSDP's forward and backward hooks all-gather it around
each call and free it after: while computing log-probs and gradients a process holds one layer whole at a time.
When the graph only reads the unit's weights by attribute (`get_attr`, older builds), no hook can fire, so
`gathered_for_log_probs()` all-gathers such units for the whole phase. Generation (`gathered_for_generation()`)
always gathers every unit for the whole call: the processes run different numbers of decode steps (each stops when
its own completions are done), so per-call collectives would not pair up between them. Generation therefore holds
the whole base model, as an unsharded run does; the memory saving is in the training phases and between phases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from torch.distributed.device_mesh import init_device_mesh
from torch.distributed.fsdp import FSDPModule, fully_shard
from torch.distributed.tensor import DTensor

from rewrite.codegen import module_from_source
from rewrite.errors import CheckpointError
from rewrite.manifest import GRAPH_TENSORS_NAME, MODULE_NAME, check_compatible, read_manifest
from rewrite.model import RewrittenGptOss
from rewrite.pipeline import available_passes
from rewrite.spec import GraphSpec
from runtime.grpo.distributed import Distributed
from runtime.grpo.errors import GRPOConfigError, GRPOModelError


@dataclass
class ShardedBase:
    """The FSDP units of a sharded base model by module name, and which of them the graph calls as modules.

    Every process must enter the blocks below together: their all-gathers are collectives.
    """

    units: dict[str, FSDPModule]
    called: frozenset[str]

    @contextmanager
    def gathered_for_generation(self) -> Iterator[None]:
        """Within the block every unit holds its whole weights (one all-gather each) and keeps them through every
        call, so the block runs no collective; after it, each unit holds only its shard again."""
        for name, unit in self.units.items():
            unit.unshard()
            if name in self.called:
                unit.set_reshard_after_forward(False, recurse=False)
        try:
            yield
        finally:
            for name, unit in self.units.items():
                if name in self.called:
                    unit.set_reshard_after_forward(True, recurse=False)
                unit.reshard()

    @contextmanager
    def gathered_for_log_probs(self) -> Iterator[None]:
        """Within the block the units the graph does not call hold their whole weights (FSDP's hooks gather the
        called ones call by call, in the forward and again in the backward pass); after it, only their shards."""
        uncalled = [unit for name, unit in self.units.items() if name not in self.called]
        for unit in uncalled:
            unit.unshard()
        try:
            yield
        finally:
            for unit in uncalled:
                unit.reshard()


def sharded_unit_names(spec: GraphSpec) -> list[str]:
    """The modules sharded as units: the token embedding and each decoder layer (transformers' names)."""
    return ["model.embed_tokens", *(f"model.layers.{index}" for index in range(spec.num_layers))]


def load_sharded_policy(
    model: str | Path | RewrittenGptOss, distributed: Distributed
) -> tuple[RewrittenGptOss, Path, ShardedBase]:
    """The checkpoint directory `model` loaded with its base weights sharded across the processes.

    Returns what `load_policy` returns, plus the `ShardedBase` whose `gathered()` the trainer wraps around each
    phase. Raises `GRPOConfigError` outside torchrun (or for a model already loaded), `CheckpointError` for a
    directory `rewrite build` did not write or whose weight files cannot be read.
    """
    if isinstance(model, RewrittenGptOss) or distributed.world_size == 1:
        raise GRPOConfigError(
            "fsdp shards the base model across processes while loading it: launch with "
            "`torchrun --nproc_per_node N` (N >= 2) and pass the checkpoint directory, or leave out --fsdp."
        )
    directory = Path(model)
    manifest = read_manifest(directory)
    check_compatible(manifest, set(available_passes()))
    spec = GraphSpec.from_json(manifest["spec"])
    unit_names = sharded_unit_names(spec)
    files = _tensor_files(directory, manifest["tensors"])
    tensors = {
        name: _meta_tensor(path, name) if _in_units(name, unit_names) else _read(path, name, distributed.device)
        for name, path in files.items()
    }
    graph_module = module_from_source(
        (directory / MODULE_NAME).read_text(), tensors, set(manifest["tensors"]["parameters"]),
        manifest.get("modules", {}),
    )
    graph_module.requires_grad_(False)  # the base is frozen; LoRA adds the trainable parameters later
    mesh = init_device_mesh(distributed.device.type, (distributed.world_size,))
    units = {}
    for unit_name in unit_names:
        unit = _submodule(graph_module, unit_name)
        fully_shard(unit, mesh=mesh, reshard_after_forward=True)
        unit.to_empty(device=distributed.device)
        _load_unit(unit, unit_name, files, distributed)
        units[unit_name] = unit
    # An emitted module's submodules with a forward of their own are the ones its code calls; containers have none.
    called = frozenset(name for name, unit in units.items() if type(unit).forward is not torch.nn.Module.forward)
    return RewrittenGptOss(graph_module, spec, manifest).eval(), directory, ShardedBase(units, called)


def _tensor_files(directory: Path, tensor_names: dict) -> dict[str, Path]:
    """Each tensor's name -> the safetensors file that holds it (as `rewrite.load` finds them)."""
    index = directory / "model.safetensors.index.json"
    weight_map = json.loads(index.read_text())["weight_map"] if index.is_file() else {}
    files = {name: directory / weight_map.get(name, "model.safetensors") for name in tensor_names["from_transformers"]}
    files.update({name: directory / GRAPH_TENSORS_NAME for name in tensor_names["graph_only"]})
    return files


def _in_units(name: str, unit_names: list[str]) -> bool:
    return any(name.startswith(f"{unit_name}.") for unit_name in unit_names)


def _submodule(graph_module: torch.nn.Module, name: str) -> torch.nn.Module:
    try:
        return graph_module.get_submodule(name)
    except AttributeError as error:
        raise GRPOModelError(
            f"the checkpoint's module has no {name} (transformers' module names): rebuild it with `rewrite build`."
        ) from error


def _meta_tensor(path: Path, name: str) -> torch.Tensor:
    """A meta tensor of `name`'s shape and dtype, read from the file header only."""
    with _open(path) as handle:
        tensor_slice = handle.get_slice(name)
        dtype = tensor_slice[:0].dtype
        return torch.empty(tensor_slice.get_shape(), dtype=dtype, device="meta")


def _read(path: Path, name: str, device: torch.device) -> torch.Tensor:
    with _open(path) as handle:
        return handle.get_tensor(name).to(device)


def _load_unit(unit: torch.nn.Module, unit_name: str, files: dict[str, Path], distributed: Distributed) -> None:
    """Fill `unit`'s freshly allocated tensors: this process's rows of each sharded parameter, buffers whole."""
    with torch.no_grad():
        for local_name, tensor in [*unit.named_parameters(), *unit.named_buffers()]:
            name = f"{unit_name}.{local_name}"
            if not isinstance(tensor, DTensor):
                tensor.copy_(_read(files[name], name, distributed.device))
                continue
            local = tensor.to_local()
            start, end = _shard_rows(tensor.shape[0], distributed)
            if local.shape[0] != end - start:
                raise GRPOModelError(f"{name}: FSDP holds {local.shape[0]} rows here, expected {end - start}.")
            with _open(files[name]) as handle:
                local.copy_(handle.get_slice(name)[start:end].to(local.device))


def _shard_rows(rows: int, distributed: Distributed) -> tuple[int, int]:
    """The rows [start, end) of a dim-0 sharded tensor that this process holds (torch.chunk's split, as FSDP2)."""
    per_process = -(-rows // distributed.world_size)
    start = min(distributed.rank * per_process, rows)
    return start, min(start + per_process, rows)


@contextmanager
def _open(path: Path) -> Iterator:
    try:
        with safe_open(str(path), framework="pt", device="cpu") as handle:
            yield handle
    except (SafetensorError, OSError) as error:
        raise CheckpointError(
            f"cannot read {path}: {error}; the file is missing or corrupt, rebuild the checkpoint"
        ) from error
