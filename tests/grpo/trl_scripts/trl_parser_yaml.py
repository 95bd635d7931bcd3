"""TrlParser reading a YAML config (`--config`) with command-line overrides, ModelConfig's LoRA fields turned into a
peft config by get_peft_config, and training_args.resume_from_checkpoint passed on as TRL's scripts do."""

import os
import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer
from trl.scripts.utils import ScriptArguments, TrlParser
from trl.trainer.model_config import ModelConfig
from trl.trainer.utils import get_peft_config

model_dir, output_dir = sys.argv[1:3]
os.makedirs(output_dir, exist_ok=True)
config_file = os.path.join(os.path.dirname(output_dir.rstrip("/")), "grpo.yaml")
with open(config_file, "w") as handle:
    handle.write(f"""\
model_name_or_path: {model_dir}
dataset_name: local
output_dir: {output_dir}
learning_rate: 1.0e-5
max_steps: 2
per_device_train_batch_size: 4
num_generations: 2
max_completion_length: 6
logging_steps: 1
save_strategy: "no"
report_to: none
use_peft: true
lora_r: 4
lora_alpha: 8
lora_dropout: 0.0
lora_target_modules: [q_proj, v_proj]
""")
parser = TrlParser((ScriptArguments, GRPOConfig, ModelConfig))
script_args, training_args, model_args = parser.parse_args_and_config(
    args=["--config", config_file, "--learning_rate", "2e-5", "--beta", "0.0"])
assert training_args.learning_rate == 2e-5 and training_args.max_steps == 2, training_args
assert script_args.dataset_name == "local" and model_args.lora_r == 4
peft_config = get_peft_config(model_args)
assert set(peft_config.target_modules) == {"q_proj", "v_proj"}

dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"Hello {n}"}] for n in range(8)]})


def reward_short(completions, **kwargs):
    return [-float(len(completion[0]["content"])) for completion in completions]


trainer = GRPOTrainer(model=model_args.model_name_or_path, reward_funcs=reward_short, args=training_args,
                      train_dataset=dataset,
                      peft_config=peft_config)
trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
trainer.save_model(training_args.output_dir)
assert os.path.isfile(os.path.join(output_dir, "adapter_config.json"))
