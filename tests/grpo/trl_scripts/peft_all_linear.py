"""peft LoRA through TRL: task_type CAUSAL_LM, all-linear; trainer.model / trainer.args / save_model."""

import sys

from datasets import Dataset
from peft import LoraConfig
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_list([{"prompt": [{"role": "user", "content": f"Say {word}."}]}
                             for word in ["yes", "no", "maybe", "hello"] * 3])


def short_answer(completions, **kwargs):
    return [1.0 / (1 + len(completion[0]["content"])) for completion in completions]


peft_config = LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, task_type="CAUSAL_LM", target_modules="all-linear")
args = GRPOConfig(output_dir=output_dir, max_steps=2, per_device_train_batch_size=4, num_generations=4,
                  max_completion_length=8, learning_rate=1e-4, beta=0.04, report_to="tensorboard",
                  logging_steps=1, save_strategy="no")
trainer = GRPOTrainer(model=model_dir, reward_funcs=short_answer, args=args, train_dataset=dataset,
                      peft_config=peft_config)
trainer.model.print_trainable_parameters()
print("lr", trainer.args.learning_rate)
trainer.train()
trainer.save_model()
trainer.save_model(output_dir + "/final")
