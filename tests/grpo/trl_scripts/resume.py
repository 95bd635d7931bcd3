"""Train one step, then resume from the checkpoint to two steps with a new trainer; read the log history."""

import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_list([{"prompt": f"Tell me about {topic}."} for topic in ["cats", "dogs", "owls"] * 4])


def reward_unique_chars(completions, **kwargs):
    return [len(set(completion)) / 10 for completion in completions]


def make_trainer(max_steps):
    args = GRPOConfig(output_dir=output_dir, max_steps=max_steps, save_steps=1, per_device_train_batch_size=2,
                      gradient_accumulation_steps=2, num_generations=2, max_completion_length=8, seed=3,
                      logging_steps=1)
    return GRPOTrainer(model_dir, reward_unique_chars, args, dataset)


make_trainer(1).train()
trainer = make_trainer(2)
result = trainer.train(resume_from_checkpoint=True)
print(result)
steps = [record["step"] for record in trainer.state.log_history if "loss" in record]
assert steps == [2], steps
trainer.save_model()
