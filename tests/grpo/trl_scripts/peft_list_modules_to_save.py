"""peft LoRA on a list of modules, AutoModelForCausalLM loaded by the script; loss and scaling options."""

import sys

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
tokenizer = AutoTokenizer.from_pretrained(model_dir)
dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"Spell {n}."}] for n in range(8)]})


def reward_num_words(completions, **kwargs):
    return [float(len(completion[0]["content"].split())) for completion in completions]


training_args = GRPOConfig(
    output_dir=output_dir, max_steps=2, per_device_train_batch_size=4, num_generations=2, max_completion_length=8,
    loss_type="grpo", scale_rewards="batch", mask_truncated_completions=True, epsilon=0.2, epsilon_high=0.28,
    temperature=1.0, top_k=50, warmup_steps=1, lr_scheduler_type="constant_with_warmup", max_grad_norm=0.5,
    weight_decay=0.01,
)
trainer = GRPOTrainer(
    model=model, reward_funcs=reward_num_words, args=training_args, train_dataset=dataset,
    processing_class=tokenizer,
    peft_config=LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"),
)
trainer.train()
trainer.save_model(output_dir)
