"""Rewards that read completion_ids lengths and trainer_state (global_step, max_steps) for a length curriculum,
and one that reads the prompts' ids through the tokenizer given as processing_class."""

import sys

from datasets import Dataset
from transformers import AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
tokenizer = AutoTokenizer.from_pretrained(model_dir)
dataset = Dataset.from_dict({"prompt": [f"Explain idea {n}." for n in range(12)]})
seen = []


def length_curriculum(completions, completion_ids, trainer_state, **kwargs):
    target = 2 + 4 * trainer_state.global_step // max(1, trainer_state.max_steps)
    seen.append((trainer_state.global_step, trainer_state.max_steps))
    assert all(isinstance(token, int) for ids in completion_ids for token in ids)
    return [-abs(target - len(ids)) for ids in completion_ids]


def decoded_matches(completions, completion_ids, **kwargs):
    decoded = tokenizer.batch_decode(completion_ids, skip_special_tokens=True)
    return [float(len(text) <= len(completion) + 1) for text, completion in zip(decoded, completions, strict=True)]


args = GRPOConfig(output_dir=output_dir, max_steps=3, per_device_train_batch_size=4, num_generations=2,
                  max_completion_length=6, logging_steps=1, report_to="none", save_strategy="no",
                  reward_weights=[1.0, 0.1])
trainer = GRPOTrainer(model=model_dir, reward_funcs=[length_curriculum, decoded_matches], args=args,
                      train_dataset=dataset, processing_class=tokenizer)
trainer.train()
assert [step for step, _ in seen] == [0, 1, 2] and {total for _, total in seen} == {3}, seen
record = [entry for entry in trainer.state.log_history if "loss" in entry][-1]
assert "completions/mean_length" in record and "rewards/length_curriculum/mean" in record, sorted(record)
