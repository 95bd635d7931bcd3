"""Several rewards with reward_weights: one async, one returning None for some rows, one logging with log_metric
and log_extra, one reading a column and trainer_state; a JSON dataset through load_dataset; callbacks."""

import asyncio
import json
import os
import sys

from datasets import load_dataset
from transformers import TrainerCallback
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
os.makedirs(output_dir, exist_ok=True)
data_file = os.path.join(output_dir, "data.jsonl")
with open(data_file, "w") as handle:
    for index in range(16):
        row = {"prompt": [{"role": "user", "content": f"Count to {index}."}], "difficulty": index % 4}
        handle.write(json.dumps(row) + "\n")
dataset = load_dataset("json", data_files=data_file)


async def slow_judge(prompts, completions, **kwargs):
    await asyncio.sleep(0.01)
    return [float(len(completion[0]["content"]) > 3) for completion in completions]


def only_hard_rows(completions, difficulty, **kwargs):
    return [None if level < 2 else 1.0 for level in difficulty]


def logged_length(completions, completion_ids, log_metric, log_extra, **kwargs):
    lengths = [len(ids) for ids in completion_ids]
    log_metric("mean_length", sum(lengths) / len(lengths))
    log_extra("length", lengths)
    return [-length / 100 for length in lengths]


def curriculum(completions, difficulty, trainer_state, **kwargs):
    progress = trainer_state.global_step / trainer_state.max_steps
    return [progress * level for level in difficulty]


class StepCounter(TrainerCallback):
    def __init__(self):
        self.steps = 0
        self.logs = []

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(logs)


class PrintOnTrainEnd(TrainerCallback):
    def on_train_end(self, args, state, control, **kwargs):
        print(f"finished at step {state.global_step}")


counter = StepCounter()
training_args = GRPOConfig(
    output_dir=output_dir, max_steps=2, per_device_train_batch_size=4, num_generations=2,
    max_completion_length=8, reward_weights=[1.0, 0.5, 0.1, 2.0], lr_scheduler_type="cosine", warmup_ratio=0.1,
    optim="adamw_torch", logging_steps=1, save_steps=1, save_total_limit=1, log_completions=True,
    remove_unused_columns=False,
)
trainer = GRPOTrainer(model=model_dir, reward_funcs=[slow_judge, only_hard_rows, logged_length, curriculum],
                      args=training_args, train_dataset=dataset["train"], callbacks=[counter])
trainer.add_callback(PrintOnTrainEnd)
trainer.train()
assert counter.steps == 2, counter.steps
assert any("rewards/curriculum/mean" in logs for logs in counter.logs), counter.logs
print(sorted(os.listdir(output_dir)))
