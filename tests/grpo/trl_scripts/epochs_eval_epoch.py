"""num_train_epochs without max_steps, eval_strategy="epoch" and save_strategy="epoch", save_total_limit=1."""

import os
import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
train = Dataset.from_dict({"prompt": [f"Name {n}." for n in range(4)]})
evaluation = Dataset.from_dict({"prompt": [f"Name plant {n}." for n in range(4)]})


def reward_len(completions, **kwargs):
    return [-abs(12 - len(completion)) for completion in completions]


args = GRPOConfig(output_dir=output_dir, num_train_epochs=2, per_device_train_batch_size=4, num_generations=2,
                  per_device_eval_batch_size=2, max_completion_length=6, eval_strategy="epoch",
                  save_strategy="epoch", save_total_limit=1, logging_steps=1, report_to="none")
trainer = GRPOTrainer(model=model_dir, reward_funcs=reward_len, args=args, train_dataset=train,
                      eval_dataset=evaluation)
trainer.train()
assert trainer.state.max_steps == 4, trainer.state.max_steps  # 2 steps of 2 prompts x 2 completions each
evals = [record["step"] for record in trainer.state.log_history if "eval_reward" in record]
assert evals == [2, 4], trainer.state.log_history
print(sorted(os.listdir(output_dir)))
assert [name for name in os.listdir(output_dir) if name.startswith("checkpoint-")] == ["checkpoint-4"]
