"""eval_dataset as a dict of named datasets (transformers logs eval_NAME_*), evaluate() called after training."""

import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
train = Dataset.from_dict({"prompt": [f"Add {n} and {n}." for n in range(8)]})
easy = Dataset.from_dict({"prompt": ["Add 1 and 1.", "Add 2 and 2."]})
hard = Dataset.from_dict({"prompt": ["Add 123 and 456.", "Add 789 and 12."]})


def reward_digits(completions, **kwargs):
    return [float(sum(char.isdigit() for char in completion)) for completion in completions]


args = GRPOConfig(output_dir=output_dir, max_steps=2, per_device_train_batch_size=4, num_generations=2,
                  per_device_eval_batch_size=2, max_completion_length=6, eval_strategy="steps", eval_steps=1,
                  logging_steps=1, report_to="none")
trainer = GRPOTrainer(model=model_dir, reward_funcs=reward_digits, args=args, train_dataset=train,
                      eval_dataset={"easy": easy, "hard": hard})
trainer.train()
keys = {key for record in trainer.state.log_history for key in record}
assert "eval_easy_reward" in keys and "eval_hard_reward" in keys, sorted(keys)
metrics = trainer.evaluate()
print(metrics)
