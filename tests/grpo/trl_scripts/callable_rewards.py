"""Picklable reward forms TRL names by get_callable_name: a functools.partial (logged under the wrapped
function's name) and a callable class instance with an async __call__ (under its class name)."""

import asyncio
import functools
import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"Say {n} twice."}] for n in range(8)]})


def length_target(completions, target, **kwargs):
    return [-abs(target - len(completion[0]["content"])) for completion in completions]


class AsyncJudge:
    def __init__(self, bonus):
        self.bonus = bonus

    async def __call__(self, prompts, completions, **kwargs):
        await asyncio.sleep(0)
        return [self.bonus if completion[0]["content"] else 0.0 for completion in completions]


args = GRPOConfig(output_dir=output_dir, max_steps=1, per_device_train_batch_size=4, num_generations=4,
                  max_completion_length=6, logging_steps=1, report_to="none")
trainer = GRPOTrainer(model=model_dir, reward_funcs=[functools.partial(length_target, target=5), AsyncJudge(0.5)],
                      args=args, train_dataset=dataset)
trainer.train()
record = [entry for entry in trainer.state.log_history if "loss" in entry][-1]  # the last is the summary
assert "rewards/length_target/mean" in record and "rewards/AsyncJudge/mean" in record, sorted(record)
