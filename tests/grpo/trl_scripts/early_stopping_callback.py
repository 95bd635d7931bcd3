"""Callbacks: a TrainerCallback subclass passed as a class, one that stops training from on_step_end, one that
collects on_log's logs; trainer_state read by a reward."""

import sys

from datasets import Dataset
from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_dict({"prompt": [f"Count to {n}." for n in range(12)]})
seen_steps = []


def step_aware(completions, trainer_state, **kwargs):
    seen_steps.append(trainer_state.global_step)
    return [float(len(completion)) / (1 + trainer_state.global_step) for completion in completions]


class StopAfterTwo(TrainerCallback):
    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= 2:
            control.should_training_stop = True
        return control


class LogCollector(TrainerCallback):
    def __init__(self):
        self.logs = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs))


class BeginEnd(TrainerCallback):
    def on_train_begin(self, args, state, control, **kwargs):
        print("begin", state.max_steps)

    def on_train_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        print("end", state.global_step, type(model).__name__)


collector = LogCollector()
args = GRPOConfig(output_dir=output_dir, max_steps=5, per_device_train_batch_size=4, num_generations=2,
                  max_completion_length=6, logging_steps=1, report_to="none", save_strategy="no")
trainer = GRPOTrainer(model=model_dir, reward_funcs=step_aware, args=args, train_dataset=dataset,
                      callbacks=[StopAfterTwo, collector])
trainer.add_callback(BeginEnd())
trainer.train()
assert trainer.state.global_step == 2, trainer.state.global_step
assert [log["step"] for log in collector.logs if "loss" in log] == [1, 2], collector.logs
assert seen_steps == [0, 1], seen_steps
