"""The model given as a loaded transformers model with model_init_kwargs ignored, the tokenizer with a pad token of
its own and padding_side left, gradient_checkpointing_kwargs, trainer.state fields after training, save_model()
with its default directory, and trainer.push_to_hub guarded by args.push_to_hub as in TRL's examples."""

import os
import sys

import torch
from datasets import Dataset
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
tokenizer = AutoTokenizer.from_pretrained(model_dir)
tokenizer.padding_side = "left"
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
dataset = Dataset.from_dict({"prompt": [[{"role": "system", "content": "Be brief."},
                                          {"role": "user", "content": f"Number {n}?"}] for n in range(8)]})


def brevity(completions, **kwargs):
    return [1.0 / (1 + len(completion[0]["content"])) for completion in completions]


args = GRPOConfig(output_dir=output_dir, max_steps=2, per_device_train_batch_size=2, gradient_accumulation_steps=2,
                  num_generations=2, max_completion_length=6, gradient_checkpointing=True,
                  gradient_checkpointing_kwargs={"use_reentrant": False}, logging_steps=1, report_to="none",
                  lora_r=4)
trainer = GRPOTrainer(model=model, reward_funcs=brevity, args=args, train_dataset=dataset,
                      processing_class=tokenizer)
trainer.train()
assert trainer.state.global_step == 2 and trainer.state.max_steps == 2
trainer.save_model()
assert os.path.isfile(os.path.join(output_dir, "adapter_model.safetensors"))
if args.push_to_hub:
    trainer.push_to_hub(dataset_name="local")
