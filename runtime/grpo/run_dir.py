"""One run per output directory: which checkpoint to resume from, and refusing to mix two runs' outputs.

A run's identity is its `GRPOConfig` (less the fields that only say where and how often to write), its reward
functions' names and its base model (graph hash and source). Resuming needs the same identity; starting afresh
in a directory that holds a run needs `overwrite_output_dir` (`--force`), which deletes that run's outputs.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from pathlib import Path

from runtime.grpo.checkpoints import list_checkpoints, read_trainer_state, remove_temporaries
from runtime.grpo.config import GRPOConfig
from runtime.grpo.errors import GRPOOutputDirError
from runtime.grpo.run_log import RUN_OUTPUTS

# Fields that may differ between a run and its resumption: where, what and how often it writes, on what devices, and
# how long it runs (a larger max_steps continues the run).
RESUMABLE_CHANGES = (
    "output_dir", "logging_steps", "save_steps", "save_total_limit", "save_strategy", "use_cpu", "fsdp", "max_steps",
    "num_train_epochs", "report_to", "log_completions", "num_completions_to_print", "eval_strategy", "eval_steps",
    "per_device_eval_batch_size", "num_generations_eval", "logging_dir", "run_name", "resume_from_checkpoint",
)
# N processes with gradient accumulation A train as one process with N * A: the identity keeps the product.
ACCUMULATION_KEY = "gradient_accumulation_steps * processes"


def run_identity(config: GRPOConfig, reward_names: list[str], model_manifest: dict, world_size: int = 1) -> dict:
    """What must match for two runs to be the same run (JSON-normalised, so it compares equal after a reload).

    The accumulation steps count over all `world_size` processes, so a run resumes on another number of
    processes when the gradient accumulation makes up for it (2 processes x 1 = 1 process x 2).
    """
    settings = {name: value for name, value in dataclasses.asdict(config).items() if name not in RESUMABLE_CHANGES}
    settings[ACCUMULATION_KEY] = settings.pop("gradient_accumulation_steps") * world_size
    model = {"graph_hash": model_manifest.get("graph_hash"), "source": model_manifest.get("source")}
    return json.loads(json.dumps({"config": settings, "reward_functions": reward_names, "model": model}))


def check_output_dir(output_dir: Path) -> None:
    """Raise `GRPOOutputDirError` when `output_dir` is something other than a directory (a file, say)."""
    if output_dir.exists() and not output_dir.is_dir():
        raise GRPOOutputDirError(f"{output_dir} is a file, not a directory: pass a directory for the run's outputs "
                                 "(--out), new or holding this run.")


def prepare_output_dir(
    output_dir: Path, identity: dict, resume_from_checkpoint: bool | str | Path | None, overwrite: bool
) -> Path | None:
    """The checkpoint to resume from (None: start at step 0), after making `output_dir` ready for this run.

    `resume_from_checkpoint`: True for the newest complete checkpoint in `output_dir` (none yet: start afresh),
    a path for that checkpoint. Raises `GRPOOutputDirError` when resuming another run, or when starting afresh
    over another run's outputs without `overwrite`.
    """
    check_output_dir(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    remove_temporaries(output_dir)
    checkpoints = list_checkpoints(output_dir)
    if resume_from_checkpoint:
        if resume_from_checkpoint is True:
            if not checkpoints:
                print(f"no checkpoint in {output_dir} yet: starting at step 0", file=sys.stderr)
                return None
            checkpoint = checkpoints[-1]
        else:
            checkpoint = Path(resume_from_checkpoint)
        _check_same_run(checkpoint, identity)
        return checkpoint
    leftovers = [output_dir / name for name in RUN_OUTPUTS if (output_dir / name).exists()] + checkpoints
    if leftovers and not overwrite:
        raise GRPOOutputDirError(_occupied_message(output_dir, checkpoints, identity))
    for path in leftovers:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return None


def _check_same_run(checkpoint: Path, identity: dict) -> None:
    if not (checkpoint / "trainer_state.json").is_file():
        raise GRPOOutputDirError(f"{checkpoint} is not a training checkpoint: pass a checkpoint-STEP directory.")
    differences = _differences(read_trainer_state(checkpoint).identity, identity)
    if differences:
        raise GRPOOutputDirError(
            f"{checkpoint} belongs to a different run ({differences}): resume with the options it was started "
            "with, or train into another output directory."
        )


def _occupied_message(output_dir: Path, checkpoints: list[Path], identity: dict) -> str:
    if not checkpoints:
        return (f"{output_dir} holds the outputs of an earlier run: pass --resume (resume_from_checkpoint=True) "
                "to continue it, --force (overwrite_output_dir=True) to delete them, or use another output dir.")
    differences = _differences(read_trainer_state(checkpoints[-1]).identity, identity)
    if differences:
        return (f"{output_dir} holds checkpoints of another run ({differences}): use another output directory, "
                "or pass --force (overwrite_output_dir=True) to delete them.")
    return (f"{output_dir} holds checkpoints of this run up to {checkpoints[-1].name}: pass --resume "
            "(resume_from_checkpoint=True) to continue it, or --force (overwrite_output_dir=True) to start over.")


def _differences(saved: dict, current: dict) -> str:
    """'learning_rate: 0.01 in the checkpoint, 0.02 now; ...' for every entry that differs."""
    flat_saved, flat_current = _flatten(saved), _flatten(current)
    keys = sorted(set(flat_saved) | set(flat_current))
    return "; ".join(
        f"{key}: {flat_saved.get(key)!r} in the checkpoint, {flat_current.get(key)!r} now"
        for key in keys if flat_saved.get(key) != flat_current.get(key)
    )


def _flatten(identity: dict) -> dict:
    return {**identity["config"], "reward functions": identity["reward_functions"], "base model": identity["model"]}
