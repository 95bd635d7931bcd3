"""What a TRL script may call on `GRPOTrainer` beyond our own methods: the `train()` result in the shape of
transformers' `TrainOutput`, and the TRL / transformers `Trainer` arguments and attributes we do not have, each
refused by name with what to use instead (`GRPOUnsupportedError`).
"""

from __future__ import annotations

import math
from typing import Any

from runtime.grpo.errors import GRPOUnsupportedError

_NO_ACCELERATE = ("this trainer does not run through accelerate: trainer.accelerator has only print, "
                  "is_main_process, process_index, num_processes, device, wait_for_everyone and unwrap_model")
_NO_HUB = "nothing is uploaded to the Hugging Face Hub; upload output_dir (trainer.save_model's files) yourself"
_METRICS = ("every step's metrics are in OUTPUT_DIR/log.jsonl and trainer.state.log_history, and train() returns "
            "them (with .metrics)")

UNSUPPORTED_ATTRIBUTES: dict[str, str] = {
    "is_deepspeed_enabled": _NO_ACCELERATE,
    "is_fsdp_enabled": "fsdp is GRPOConfig(fsdp=True) (--fsdp): read trainer.args.fsdp",
    "push_to_hub": _NO_HUB,
    "create_model_card": _NO_HUB,
    "hub_model_id": _NO_HUB,
    "log_metrics": _METRICS,
    "save_metrics": _METRICS,
    "metrics_format": _METRICS,
    "save_state": "every checkpoint already holds trainer_state.json; trainer.state is transformers' TrainerState",
    "callback_handler": "use trainer.add_callback, trainer.pop_callback and trainer.remove_callback",
    "ref_model": "the reference model is the base model with the adapters disabled (trainer.policy.disable_adapter())",
    "get_train_dataloader": "prompts are held in memory and drawn by seeded index; there is no data loader",
    "get_eval_dataloader": "prompts are held in memory and drawn by seeded index; there is no data loader",
    "vllm_client": "our generation engine (trainer.engine) replaces vLLM",
    "llm": "our generation engine (trainer.engine) replaces vLLM",
}

# GRPOTrainer keyword arguments of TRL 1.16 that we cannot honour: name -> what to do instead.
UNSUPPORTED_ARGUMENTS: dict[str, str] = {
    "quantization_config": "quantize the checkpoint when building it (rewrite build --quantize nf4: attention "
                           "projections and experts in bitsandbytes NF4) and pass that directory",
    "tools": "tool calling during generation is not implemented: score tool calls in a reward function (chat "
             "completions carry the parsed tool_calls)",
    "rollout_func": "generation is our engine's: shape completions in a reward function instead",
    "environment_factory": "environments are not implemented: score completions in a reward function instead",
}


def refuse_unsupported_arguments(**arguments: Any) -> None:
    """Raise `GRPOUnsupportedError` naming every argument of `UNSUPPORTED_ARGUMENTS` given a value (not None)."""
    given = [name for name, value in arguments.items() if value is not None]
    if given:
        raise GRPOUnsupportedError("GRPOTrainer does not support " + "; ".join(
            f"{name}=... ({UNSUPPORTED_ARGUMENTS[name]})" for name in given) + ".")


def unsupported_attribute(name: str) -> AttributeError:
    """The error for `trainer.<name>`: `GRPOUnsupportedError` with what to use instead for a TRL / transformers
    Trainer attribute we do not have, else a plain AttributeError."""
    if name in UNSUPPORTED_ATTRIBUTES:
        return GRPOUnsupportedError(f"GRPOTrainer has no {name!r}: {UNSUPPORTED_ATTRIBUTES[name]}.")
    return AttributeError(f"'GRPOTrainer' object has no attribute {name!r}")


class AcceleratorView:
    """The part of accelerate's `Accelerator` that TRL scripts call on `trainer.accelerator` (`print` on the main
    process, the process index and count, the device, a barrier, `unwrap_model`), answered from our processes
    (`runtime.grpo.distributed`); anything else is refused by name."""

    def __init__(self, distributed: Any) -> None:
        self._distributed = distributed

    @property
    def is_main_process(self) -> bool:
        return self._distributed.is_main

    is_local_main_process = is_main_process

    @property
    def process_index(self) -> int:
        return self._distributed.rank

    @property
    def num_processes(self) -> int:
        return self._distributed.world_size

    @property
    def device(self) -> Any:
        return self._distributed.device

    def print(self, *values: Any, **kwargs: Any) -> None:
        if self._distributed.is_main:
            print(*values, **kwargs)

    def wait_for_everyone(self) -> None:
        self._distributed.barrier()

    def unwrap_model(self, model: Any, **kwargs: Any) -> Any:
        return model

    def __getattr__(self, name: str) -> Any:
        raise GRPOUnsupportedError(f"trainer.accelerator has no {name!r}: {_NO_ACCELERATE}.")


class TrainerSurface:
    """The methods and attributes of TRL's / transformers' Trainer that `GRPOTrainer` answers beyond its own steps
    (the model, the state, callbacks, the accelerator, process zero); any other Trainer attribute a script asks
    for is refused with what to use instead. Needs `policy`, `events` and `distributed` on the trainer."""

    def __getattr__(self, name: str) -> Any:
        raise unsupported_attribute(name)  # only reached for attributes the trainer does not have

    @property
    def model(self) -> Any:
        """The model being trained, as TRL's `trainer.model`: the peft model (the rewritten module with its LoRA
        adapters; `print_trainable_parameters`, `save_pretrained`). The rewritten module is `trainer.rewritten`."""
        return self.policy

    @property
    def state(self) -> Any:
        """transformers' `TrainerState` of the run: global_step, max_steps, epoch, log_history, ..."""
        return self.events.state

    def add_callback(self, callback: Any) -> None:
        """Add a transformers `TrainerCallback` (an instance or a class), as `Trainer.add_callback`."""
        self.events.add_callback(callback)

    def pop_callback(self, callback: Any) -> Any:
        """Remove and return a callback (an instance, or the first of a class), as `Trainer.pop_callback`."""
        return self.events.pop_callback(callback)

    def remove_callback(self, callback: Any) -> None:
        """Remove a callback (an instance, or the first of a class), as `Trainer.remove_callback`."""
        self.events.remove_callback(callback)

    @property
    def accelerator(self) -> AcceleratorView:
        """What TRL scripts call on `trainer.accelerator` (print, process index and count, device, barrier)."""
        return AcceleratorView(self.distributed)

    def is_world_process_zero(self) -> bool:
        """Whether this process writes the logs and checkpoints (rank 0), as `Trainer.is_world_process_zero`."""
        return self.distributed.is_main

    def end(self) -> None:
        """transformers' `Trainer.end` (finish the trackers); nothing is left to finish: `train` closes its logs."""


class TrainResult(list):
    """What `GRPOTrainer.train()` returns: the call's per-step log records (a list), with transformers'
    `TrainOutput` fields: `global_step`, `training_loss` (the mean loss of the call's steps, NaN without steps)
    and `metrics` (train_runtime in seconds, train_loss, train_steps_per_second, and epoch, the passes over
    the prompts, once a step has run)."""

    def __init__(self, records: list[dict], global_step: int, runtime_seconds: float, epoch: float | None) -> None:
        super().__init__(records)
        self.global_step = global_step
        losses = [record["loss"] for record in records if "loss" in record]
        self.training_loss = sum(losses) / len(losses) if losses else math.nan
        self.metrics = {
            "train_runtime": runtime_seconds,
            "train_loss": self.training_loss,
            "train_steps_per_second": len(records) / runtime_seconds if runtime_seconds > 0 else 0.0,
            **({} if epoch is None else {"epoch": epoch}),
        }
