"""A train_test_split with eval_dataset and eval_strategy="steps"; num_train_epochs instead of max_steps."""

import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
full = Dataset.from_dict({
    "prompt": [f"Question {n}: what comes after {n}?" for n in range(20)],
    "solution": [str(n + 1) for n in range(20)],
})
split = full.train_test_split(test_size=0.2, seed=0)


def contains_solution(completions, solution, **kwargs):
    return [1.0 if answer in completion else 0.0 for completion, answer in zip(completions, solution, strict=True)]


config = GRPOConfig(output_dir=output_dir, num_train_epochs=1, per_device_train_batch_size=8, num_generations=4,
                    per_device_eval_batch_size=4, max_completion_length=6, eval_strategy="steps", eval_steps=2,
                    logging_steps=2, save_strategy="epoch", dataloader_num_workers=0, generation_batch_size=8)
trainer = GRPOTrainer(model=model_dir, reward_funcs=[contains_solution], args=config,
                      train_dataset=split["train"], eval_dataset=split["test"])
trainer.train()
evals = [record for record in trainer.state.log_history if any(key.startswith("eval_") for key in record)]
assert evals, trainer.state.log_history
print(evals[-1])
