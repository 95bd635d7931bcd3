"""LoraConfig with a regex string target_modules, rsLoRA, bias="none", init_lora_weights and
modules_to_save=None; a config saved with save_model and read back by peft."""

import sys

from datasets import Dataset
from peft import LoraConfig, PeftConfig
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"Hi {n}"}] for n in range(8)]})


def reward_nonempty(completions, **kwargs):
    return [float(bool(completion[0]["content"])) + 0.1 * len(completion[0].get("thinking") or "")
            for completion in completions]


peft_config = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, bias="none", task_type="CAUSAL_LM",
                         target_modules=r".*\.self_attn\.(q_proj|o_proj)", use_rslora=True,
                         init_lora_weights="gaussian")
args = GRPOConfig(output_dir=output_dir, max_steps=1, per_device_train_batch_size=4, num_generations=2,
                  max_completion_length=6, logging_steps=1, report_to="none", beta=0.0)
trainer = GRPOTrainer(model=model_dir, reward_funcs=reward_nonempty, args=args, train_dataset=dataset,
                      peft_config=peft_config)
names = [name for name, parameter in trainer.model.named_parameters() if parameter.requires_grad]
assert names and all("q_proj" in name or "o_proj" in name for name in names), names
trainer.train()
trainer.save_model()
saved = PeftConfig.from_pretrained(output_dir)
assert saved.use_rslora and saved.r == 4
