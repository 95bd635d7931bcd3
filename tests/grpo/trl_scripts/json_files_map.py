"""A local JSON Lines file with train and test splits loaded by datasets.load_dataset("json", data_files=...),
conversational prompts with a system message built by dataset.map, shuffle/select, and the test split as
eval_dataset; a string model path and model_init_kwargs."""

import json
import os
import sys

from datasets import load_dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
os.makedirs(output_dir, exist_ok=True)
files = {}
for split, count in [("train", 12), ("test", 4)]:
    files[split] = os.path.join(output_dir, f"{split}.jsonl")
    with open(files[split], "w") as handle:
        for n in range(count):
            handle.write(json.dumps({"problem": f"What is {n} + 1?", "solution": str(n + 1)}) + "\n")
raw = load_dataset("json", data_files=files)
SYSTEM_PROMPT = "A conversation between User and Assistant. The assistant answers with a number."


def make_conversation(example):
    return {"prompt": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": example["problem"]}]}


dataset = raw.map(make_conversation, remove_columns=["problem"])
train_dataset = dataset["train"].shuffle(seed=0).select(range(8))
eval_dataset = dataset["test"]


def accuracy(completions, solution, **kwargs):
    return [float(completion[0]["content"].strip() == answer) for completion, answer in
            zip(completions, solution, strict=True)]


args = GRPOConfig(output_dir=output_dir, max_steps=2, per_device_train_batch_size=4, num_generations=2,
                  max_completion_length=6, logging_steps=1, report_to="none", eval_strategy="steps", eval_steps=2,
                  per_device_eval_batch_size=2, model_init_kwargs={"dtype": "float32"})
trainer = GRPOTrainer(model=model_dir, reward_funcs=accuracy, args=args, train_dataset=train_dataset,
                      eval_dataset=eval_dataset)
trainer.train()
assert any("eval_reward" in entry for entry in trainer.state.log_history), trainer.state.log_history
