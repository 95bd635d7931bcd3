"""The trainer's progress as transformers' `TrainerState`, and the user's `TrainerCallback`s told of it.

Callbacks get transformers' events with our `GRPOConfig` as `args`: on_init_end, on_train_begin, on_step_begin,
on_step_end, on_log (with `logs`), on_evaluate (with `metrics`), on_save, on_train_end. A callback that sets
`control.should_training_stop` ends the run after the step (saving it); `control.should_save` saves the step.
`add_callback`, `pop_callback` and `remove_callback` change the list as transformers' `Trainer` methods do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState

from runtime.grpo.config import GRPOConfig
from runtime.grpo.errors import GRPOConfigError


class TrainingEvents:
    """`state` (what reward functions get as `trainer_state`) and `fire(event)` for the callbacks."""

    def __init__(self, args: GRPOConfig, callbacks: Sequence[Any] | None, max_steps: int, is_main: bool,
                 **handler_objects: Any) -> None:
        """`handler_objects` (model, processing_class, optimizer, lr_scheduler) reach every event as keywords."""
        self.args = args
        self.callbacks: list[TrainerCallback] = []
        for callback in callbacks or []:
            self.add_callback(callback)
        self.handler_objects = handler_objects
        self.state = TrainerState(
            max_steps=max_steps, logging_steps=args.logging_steps, eval_steps=args.eval_steps or 0,
            save_steps=args.save_steps, train_batch_size=args.per_device_train_batch_size,
            num_train_epochs=args.num_train_epochs, is_local_process_zero=is_main, is_world_process_zero=is_main,
        )
        self.control = TrainerControl()

    def add_callback(self, callback: TrainerCallback | type[TrainerCallback]) -> None:
        """Append a `TrainerCallback` (a class is instantiated); raises `GRPOConfigError` for anything else."""
        instance = callback() if isinstance(callback, type) else callback
        if not isinstance(instance, TrainerCallback):
            raise GRPOConfigError(f"callbacks must be transformers TrainerCallback instances or classes, not "
                                  f"{type(instance).__name__}.")
        self.callbacks.append(instance)

    def pop_callback(self, callback: TrainerCallback | type[TrainerCallback]) -> TrainerCallback | None:
        """Remove and return the first callback that is `callback` (or an instance of it, for a class); None if
        there is none."""
        for candidate in self.callbacks:
            if candidate is callback or (isinstance(callback, type) and isinstance(candidate, callback)):
                self.callbacks.remove(candidate)
                return candidate
        return None

    def remove_callback(self, callback: TrainerCallback | type[TrainerCallback]) -> None:
        """`pop_callback` without the result."""
        self.pop_callback(callback)

    def fire(self, event: str, **kwargs: Any) -> TrainerControl:
        """Call `event` on every callback; returns the control they leave."""
        for callback in self.callbacks:
            result = getattr(callback, event)(self.args, self.state, self.control, **self.handler_objects, **kwargs)
            if result is not None:  # as transformers: a callback may return a new control or nothing
                self.control = result
        return self.control
