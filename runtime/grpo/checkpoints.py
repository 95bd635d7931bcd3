"""Training checkpoints: OUT/checkpoint-STEP/, written into a hidden temporary directory and renamed into place.

A checkpoint holds the LoRA adapter in peft's format (adapter_config.json, adapter_model.safetensors: it loads
with `PeftModel.from_pretrained` on the base transformers model), train_state/ (a `torch.distributed.checkpoint`
of the optimizer state, keyed by parameter names, and of every process's global generators: Python, NumPy, torch
CPU and CUDA), scheduler.pt, trainer_state.json (step, elapsed seconds, the run's identity), grpo_config.json,
and generation_batch.pt while later steps still train on the current generation batch (num_iterations > 1).
Rank 0 writes everything but train_state/, which every process writes its part of; since the optimizer state is
the same on every process (the adapters are replicated), a checkpoint of N processes loads on any number. A
process restores its own rank's generators, or rank 0's when the checkpoint was written by fewer processes.

A directory named checkpoint-STEP is always complete: it appears by one rename after everything is written, and
an old one is renamed away before it is deleted. A process killed at any moment leaves at worst a hidden
temporary directory, which `remove_temporaries` deletes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
import torch.distributed.checkpoint as dcp
from peft import PeftModel, set_peft_model_state_dict
from torch.distributed.checkpoint.state_dict import get_optimizer_state_dict, set_optimizer_state_dict

from rewrite.tensor_files import read_tensor_file
from runtime.grpo.config import GRPOConfig
from runtime.grpo.distributed import Distributed
from runtime.grpo.errors import GRPOOutputDirError
from runtime.grpo.generation_batch import GenerationBatch
from runtime.grpo.seeding import restore_rng_states, rng_states
from runtime.peft_adapter import ADAPTER_REPAIR

CHECKPOINT_NAME = re.compile(r"checkpoint-(\d+)")
TRAINER_STATE = "trainer_state.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
GENERATION_BATCH = "generation_batch.pt"
TRAIN_STATE = "train_state"
_TEMPORARY_PREFIXES = (".checkpoint-", ".deleting-")


@dataclasses.dataclass
class TrainerState:
    """What a checkpoint restores besides tensors: the step reached, the time spent, the run's identity."""

    global_step: int
    elapsed_seconds: float
    identity: dict


def save_checkpoint(
    output_dir: Path,
    policy: PeftModel,
    optimizer: torch.optim.Optimizer,
    lr_scheduler: torch.optim.lr_scheduler.LRScheduler,
    state: TrainerState,
    config: GRPOConfig,
    generation_batch: GenerationBatch | None,
    distributed: Distributed,
) -> Path:
    """Write OUT/checkpoint-STEP atomically, then keep only `config.save_total_limit` checkpoints; every process
    calls it."""
    final = output_dir / f"checkpoint-{state.global_step}"
    temporary = output_dir / f".checkpoint-{state.global_step}.partial"
    if distributed.is_main:
        shutil.rmtree(temporary, ignore_errors=True)
        temporary.mkdir(parents=True)
    distributed.barrier()
    train_state = {"optimizer": get_optimizer_state_dict(policy, optimizer), _rng_key(distributed.rank): rng_states()}
    with _single_process_intended():
        dcp.save(train_state, checkpoint_id=temporary / TRAIN_STATE, no_dist=distributed.world_size == 1)
    if distributed.is_main:
        _write_main_files(temporary, final, policy, lr_scheduler, state, config, generation_batch)
    distributed.barrier()
    return final


def _write_main_files(
    temporary: Path,
    final: Path,
    policy: PeftModel,
    lr_scheduler: torch.optim.lr_scheduler.LRScheduler,
    state: TrainerState,
    config: GRPOConfig,
    generation_batch: GenerationBatch | None,
) -> None:
    """Rank 0's part of `save_checkpoint`: the files every process holds alike, then the rename and rotation."""
    policy.save_pretrained(temporary)
    torch.save(lr_scheduler.state_dict(), temporary / "scheduler.pt")
    if generation_batch is not None:
        torch.save(generation_batch.state_dict(), temporary / GENERATION_BATCH)
    (temporary / "grpo_config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2))
    (temporary / TRAINER_STATE).write_text(json.dumps(dataclasses.asdict(state), indent=2))
    if final.exists():  # left by a run that was killed after this step and is now being redone
        _delete(final)
    os.replace(temporary, final)
    if config.save_total_limit is not None:
        for old in list_checkpoints(final.parent)[: -config.save_total_limit]:
            _delete(old)


def load_checkpoint(
    checkpoint: Path,
    policy: PeftModel,
    optimizer: torch.optim.Optimizer,
    lr_scheduler: torch.optim.lr_scheduler.LRScheduler,
    distributed: Distributed,
) -> tuple[TrainerState, GenerationBatch | None]:
    """Restore the adapter, optimizer, scheduler and global generators from `checkpoint`, in place; every process
    calls it."""
    device = next(policy.parameters()).device
    result = set_peft_model_state_dict(policy, read_tensor_file(checkpoint / ADAPTER_WEIGHTS, device, ADAPTER_REPAIR))
    if result.unexpected_keys:
        raise GRPOOutputDirError(
            f"{checkpoint}'s adapter has weights this model lacks (e.g. {result.unexpected_keys[0]}): it was "
            "trained with other LoRA targets; resume with the same --lora-* options or use another --out."
        )
    saved_keys = dcp.FileSystemReader(checkpoint / TRAIN_STATE).read_metadata().state_dict_metadata
    rng_key = _rng_key(distributed.rank) if _rng_key(distributed.rank) in saved_keys else _rng_key(0)
    train_state = {"optimizer": get_optimizer_state_dict(policy, optimizer), rng_key: rng_states()}
    with _single_process_intended():
        dcp.load(train_state, checkpoint_id=checkpoint / TRAIN_STATE, no_dist=distributed.world_size == 1)
    set_optimizer_state_dict(policy, optimizer, train_state["optimizer"])
    lr_scheduler.load_state_dict(torch.load(checkpoint / "scheduler.pt"))
    restore_rng_states(train_state[rng_key])
    batch_path = checkpoint / GENERATION_BATCH
    batch = GenerationBatch.from_state_dict(torch.load(batch_path), device) if batch_path.is_file() else None
    return read_trainer_state(checkpoint), batch


def read_trainer_state(checkpoint: Path) -> TrainerState:
    return TrainerState(**json.loads((checkpoint / TRAINER_STATE).read_text()))


def list_checkpoints(output_dir: Path) -> list[Path]:
    """The complete checkpoints in `output_dir`, oldest first."""
    if not output_dir.is_dir():
        return []
    found = [(int(match[1]), path) for path in output_dir.iterdir()
             if (match := CHECKPOINT_NAME.fullmatch(path.name)) and path.is_dir()]
    return [path for _, path in sorted(found)]


def remove_temporaries(output_dir: Path) -> None:
    """Delete what a killed save or rotation left behind (hidden .checkpoint-* and .deleting-* directories)."""
    if output_dir.is_dir():
        for path in output_dir.iterdir():
            if path.name.startswith(_TEMPORARY_PREFIXES):
                shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _single_process_intended() -> Iterator[None]:
    """Silence torch.distributed.checkpoint's warning that it runs in one process: a run of one process means to."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="torch.distributed is disabled, unavailable or uninitialized")
        yield


def _rng_key(rank: int) -> str:
    return f"rng_rank{rank}"


def _delete(checkpoint: Path) -> None:
    """Rename first, so a half-deleted checkpoint never carries a checkpoint-STEP name."""
    doomed = checkpoint.with_name(f".deleting-{checkpoint.name}")
    os.replace(checkpoint, doomed)
    shutil.rmtree(doomed)


def save_model_files(target: Path, policy: PeftModel, processing_class: Any) -> None:
    """The adapter's files (and the tokenizer's, when given) in `target`, each replaced atomically: they are
    written into a hidden sibling directory first, then renamed one by one (`target` may hold other files, such as
    a run's checkpoints, which stay)."""
    target.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.saving-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        policy.save_pretrained(staging)
        if processing_class is not None:
            processing_class.save_pretrained(staging)
        for path in sorted(staging.rglob("*")):
            if path.is_file():
                destination = target / path.relative_to(staging)
                destination.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, destination)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
