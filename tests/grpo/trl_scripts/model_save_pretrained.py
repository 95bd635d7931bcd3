"""trainer.model.save_pretrained and trainer.processing_class.save_pretrained into a directory of the script's
own, read back with peft onto the transformers model, and its active adapter."""

import os
import sys

import torch
from datasets import Dataset
from peft import PeftModel
from transformers import AutoModelForCausalLM
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"Echo {n}."}] for n in range(8)]})


def reward_has_digit(completions, **kwargs):
    return [float(any(char.isdigit() for char in completion[0]["content"])) for completion in completions]


args = GRPOConfig(output_dir=output_dir, max_steps=1, per_device_train_batch_size=4, num_generations=2,
                  max_completion_length=6, logging_steps=1, report_to="none", save_strategy="no")
trainer = GRPOTrainer(model=model_dir, reward_funcs=reward_has_digit, args=args, train_dataset=dataset)
trainer.train()
final_dir = os.path.join(output_dir, "final_adapter")
trainer.model.save_pretrained(final_dir)
trainer.processing_class.save_pretrained(final_dir)
assert os.path.isfile(os.path.join(final_dir, "adapter_config.json")), os.listdir(final_dir)
assert os.path.isfile(os.path.join(final_dir, "tokenizer_config.json")), os.listdir(final_dir)
base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
reloaded = PeftModel.from_pretrained(base, final_dir)
print(type(reloaded).__name__, reloaded.active_adapter)
