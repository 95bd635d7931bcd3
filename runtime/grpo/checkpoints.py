"""Training checkpoints: OUT/checkpoint-STEP/, written into a hidden temporary directory and renamed into place.

A checkpoint holds the LoRA adapter in peft's format (adapter_config.json, adapter_model.safetensors: it loads
with `PeftModel.from_pretrained` on the base transformers model), optimizer.pt, scheduler.pt, rng_state.pt
(Python, NumPy, torch CPU and CUDA generators), trainer_state.json (step, elapsed seconds, the run's identity),
grpo_config.json, and generation_batch.pt while later steps still train on the current generation batch
(num_iterations > 1). A directory named checkpoint-STEP is always complete: it appears by one rename after
everything is written, and an old one is renamed away before it is deleted. A process killed at any moment
leaves at worst a hidden temporary directory, which `remove_temporaries` deletes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
from pathlib import Path

import torch
from peft import PeftModel, set_peft_model_state_dict
from safetensors.torch import load_file

from runtime.grpo.config import GRPOConfig
from runtime.grpo.errors import GRPOOutputDirError
from runtime.grpo.generation_batch import GenerationBatch
from runtime.grpo.seeding import restore_rng_states, rng_states

CHECKPOINT_NAME = re.compile(r"checkpoint-(\d+)")
TRAINER_STATE = "trainer_state.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
GENERATION_BATCH = "generation_batch.pt"
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
) -> Path:
    """Write OUT/checkpoint-STEP atomically, then keep only `config.save_total_limit` checkpoints."""
    final = output_dir / f"checkpoint-{state.global_step}"
    temporary = output_dir / f".checkpoint-{state.global_step}.partial"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    policy.save_pretrained(temporary)
    torch.save(optimizer.state_dict(), temporary / "optimizer.pt")
    torch.save(lr_scheduler.state_dict(), temporary / "scheduler.pt")
    torch.save(rng_states(), temporary / "rng_state.pt")
    if generation_batch is not None:
        torch.save(generation_batch.state_dict(), temporary / GENERATION_BATCH)
    (temporary / "grpo_config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2))
    (temporary / TRAINER_STATE).write_text(json.dumps(dataclasses.asdict(state), indent=2))
    if final.exists():  # left by a run that was killed after this step and is now being redone
        _delete(final)
    os.replace(temporary, final)
    if config.save_total_limit is not None:
        for old in list_checkpoints(output_dir)[: -config.save_total_limit]:
            _delete(old)
    return final


def load_checkpoint(
    checkpoint: Path,
    policy: PeftModel,
    optimizer: torch.optim.Optimizer,
    lr_scheduler: torch.optim.lr_scheduler.LRScheduler,
) -> tuple[TrainerState, GenerationBatch | None]:
    """Restore the adapter, optimizer, scheduler and global generators from `checkpoint`, in place."""
    device = next(policy.parameters()).device
    result = set_peft_model_state_dict(policy, load_file(checkpoint / ADAPTER_WEIGHTS, device=str(device)))
    if result.unexpected_keys:
        raise GRPOOutputDirError(
            f"{checkpoint}'s adapter has weights this model lacks (e.g. {result.unexpected_keys[0]}): it was "
            "trained with other LoRA targets; resume with the same --lora-* options or use another --out."
        )
    optimizer.load_state_dict(torch.load(checkpoint / "optimizer.pt", map_location=device))
    lr_scheduler.load_state_dict(torch.load(checkpoint / "scheduler.pt"))
    restore_rng_states(torch.load(checkpoint / "rng_state.pt", weights_only=False))
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


def _delete(checkpoint: Path) -> None:
    """Rename first, so a half-deleted checkpoint never carries a checkpoint-STEP name."""
    doomed = checkpoint.with_name(f".deleting-{checkpoint.name}")
    os.replace(checkpoint, doomed)
    shutil.rmtree(doomed)
