"""The trainer's progress as transformers' `TrainerState`, and the user's `TrainerCallback`s told of it.

Callbacks get transformers' events with our `GRPOConfig` as `args`: on_init_end, on_train_begin, on_step_begin,
on_step_end, on_log (with `logs`), on_evaluate (with `metrics`), on_save, on_train_end. A callback that sets
`control.should_training_stop` ends the run after the step (saving it); `control.should_save` saves the step.
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
        callbacks = [callback() if isinstance(callback, type) else callback for callback in callbacks or []]
        for callback in callbacks:
            if not isinstance(callback, TrainerCallback):
                raise GRPOConfigError(f"callbacks must be transformers TrainerCallback instances or classes, not "
                                      f"{type(callback).__name__}.")
        self.args = args
        self.callbacks = callbacks
        self.handler_objects = handler_objects
        self.state = TrainerState(
            max_steps=max_steps, logging_steps=args.logging_steps, eval_steps=args.eval_steps or 0,
            save_steps=args.save_steps, train_batch_size=args.per_device_train_batch_size,
            num_train_epochs=args.num_train_epochs, is_local_process_zero=is_main, is_world_process_zero=is_main,
        )
        self.control = TrainerControl()

    def fire(self, event: str, **kwargs: Any) -> TrainerControl:
        """Call `event` on every callback; returns the control they leave."""
        for callback in self.callbacks:
            result = getattr(callback, event)(self.args, self.state, self.control, **self.handler_objects, **kwargs)
            if result is not None:  # as transformers: a callback may return a new control or nothing
                self.control = result
        return self.control
