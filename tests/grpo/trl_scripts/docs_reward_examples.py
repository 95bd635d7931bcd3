"""Reward functions as TRL's docs write them (a regex format reward over completion[0]["content"], an accuracy
reward over a ground_truth column), run_name, logging_dir, a fractional save_steps, and save_model at the end."""

import os
import re
import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_list([
    {"prompt": [{"role": "user", "content": f"What is {n} * 2? Put it in <answer></answer>."}],
     "ground_truth": str(2 * n)} for n in range(8)
])


def format_reward_func(completions, **kwargs):
    pattern = r"^<think>.*?</think><answer>.*?</answer>$"
    completion_contents = [completion[0]["content"] for completion in completions]
    matches = [re.match(pattern, content) for content in completion_contents]
    return [1.0 if match else 0.0 for match in matches]


def reward_func(completions, ground_truth, **kwargs):
    matches = [re.search(r"<answer>(.*?)</answer>", completion[0]["content"]) for completion in completions]
    contents = [match.group(1) if match else "" for match in matches]
    return [1.0 if c == gt else 0.0 for c, gt in zip(contents, ground_truth, strict=True)]


training_args = GRPOConfig(output_dir=output_dir, run_name="docs-example", logging_dir=os.path.join(output_dir, "tb"),
                           logging_steps=1, save_steps=0.5, max_steps=2, per_device_train_batch_size=4,
                           num_generations=2, max_completion_length=6, bf16=False, report_to="none")
trainer = GRPOTrainer(model=model_dir, reward_funcs=[format_reward_func, reward_func], args=training_args,
                      train_dataset=dataset)
trainer.train()
trainer.save_model(training_args.output_dir)
assert os.path.isdir(os.path.join(output_dir, "checkpoint-1")), os.listdir(output_dir)
