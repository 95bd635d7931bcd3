"""TRL's quickstart: text prompts, one length reward, GRPOConfig's defaults but for the sizes."""

import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_dict({"prompt": [f"Write a story about the number {n}." for n in range(16)]})


def reward_len(completions, **kwargs):
    return [-abs(20 - len(completion)) for completion in completions]


training_args = GRPOConfig(output_dir=output_dir, max_steps=2, per_device_train_batch_size=4, num_generations=4,
                           max_completion_length=8)
trainer = GRPOTrainer(model=model_dir, reward_funcs=reward_len, args=training_args, train_dataset=dataset)
trainer.train()
