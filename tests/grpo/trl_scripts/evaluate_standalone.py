"""trainer.evaluate() without eval_strategy: before training, after it, on a dataset passed to evaluate(), and
with a metric_key_prefix, as transformers' Trainer.evaluate takes them."""

import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
train = Dataset.from_dict({"prompt": [f"Spell {n}." for n in range(8)]})
validation = Dataset.from_dict({"prompt": ["Spell cat.", "Spell dog."]})
test = Dataset.from_dict({"prompt": ["Spell owl.", "Spell elk."]})


def reward_letters(completions, **kwargs):
    return [sum(char.isalpha() for char in completion) / 6 for completion in completions]


args = GRPOConfig(output_dir=output_dir, max_steps=2, per_device_train_batch_size=4, num_generations=2,
                  per_device_eval_batch_size=2, max_completion_length=6, logging_steps=1, report_to="none")
trainer = GRPOTrainer(model=model_dir, reward_funcs=reward_letters, args=args, train_dataset=train,
                      eval_dataset=validation)
before = trainer.evaluate()
assert "eval_reward" in before, before
trainer.train()
after = trainer.evaluate()
on_test = trainer.evaluate(eval_dataset=test, metric_key_prefix="test")
print("before", before["eval_reward"], "after", after["eval_reward"], on_test)
assert any(key.startswith("test_") or key.startswith("eval_") for key in on_test), on_test
