"""Conversational prompts with a system message built by .map, a reasoning_effort column, chat_template_kwargs,
the tokenizer given with pad = eos, and an accuracy reward reading the dataset's answer column."""

import sys

from datasets import Dataset
from transformers import AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
tokenizer = AutoTokenizer.from_pretrained(model_dir)
tokenizer.pad_token = tokenizer.eos_token

raw = Dataset.from_list([{"question": f"What is {a} + {a}?", "answer": str(2 * a),
                          "reasoning_effort": ["low", "medium", "high"][a % 3]} for a in range(12)])
SYSTEM = "You are a careful calculator. Answer with a number only."


def to_conversation(example):
    return {"prompt": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": example["question"]}]}


dataset = raw.map(to_conversation, remove_columns=["question"])


def accuracy_reward(completions, answer, **kwargs):
    contents = [completion[0]["content"] for completion in completions]
    return [1.0 if content.strip() == expected else 0.0 for content, expected in zip(contents, answer, strict=True)]


def format_reward(completions, **kwargs):
    return [0.5 if completion[0]["content"] else 0.0 for completion in completions]


training_args = GRPOConfig(
    output_dir=output_dir, learning_rate=1e-5, per_device_train_batch_size=2, gradient_accumulation_steps=2,
    num_generations=2, max_completion_length=8, max_steps=2, logging_steps=1, bf16=True,
    gradient_checkpointing=True, chat_template_kwargs={"reasoning_effort": "low"}, temperature=0.9, top_p=0.95,
    report_to="none", seed=7, use_vllm=False, push_to_hub=False,
)
trainer = GRPOTrainer(model=model_dir, reward_funcs=[accuracy_reward, format_reward], args=training_args,
                      train_dataset=dataset, processing_class=tokenizer)
trainer.train()
print("final reward", [entry for entry in trainer.state.log_history if "reward" in entry][-1]["reward"])
