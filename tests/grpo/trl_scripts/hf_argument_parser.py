"""GRPOConfig and a script's own dataclass parsed by transformers' HfArgumentParser from a command line, set_seed
from transformers, and the config written out with to_dict() / to_json_string()."""

import json
import os
import sys
from dataclasses import dataclass, field

from datasets import Dataset
from transformers import HfArgumentParser, set_seed
from trl import GRPOConfig, GRPOTrainer


@dataclass
class ScriptArguments:
    model_name_or_path: str = field(metadata={"help": "The checkpoint to train."})
    num_prompts: int = field(default=8, metadata={"help": "How many prompts to build."})
    target_length: int = field(default=12, metadata={"help": "The completion length the reward prefers."})


model_dir, output_dir = sys.argv[1:3]
parser = HfArgumentParser((GRPOConfig, ScriptArguments))
training_args, script_args = parser.parse_args_into_dataclasses(args=[
    "--output_dir", output_dir, "--model_name_or_path", model_dir, "--num_prompts", "8", "--max_steps", "2",
    "--per_device_train_batch_size", "4", "--num_generations", "2", "--max_completion_length", "6",
    "--logging_steps", "1", "--report_to", "none", "--seed", "11", "--learning_rate", "3e-5",
    "--lr_scheduler_type", "linear", "--beta", "0.02",
])
set_seed(training_args.seed)
assert training_args.learning_rate == 3e-5 and training_args.beta == 0.02

dataset = Dataset.from_dict({"prompt": [f"Write about {n}." for n in range(script_args.num_prompts)]})


def reward_len(completions, **kwargs):
    return [-abs(script_args.target_length - len(completion)) for completion in completions]


os.makedirs(output_dir, exist_ok=True)
settings = training_args.to_dict()
assert settings["num_generations"] == 2 and settings["output_dir"] == output_dir
with open(os.path.join(output_dir, "run_config.json"), "w") as handle:
    handle.write(training_args.to_json_string())
trainer = GRPOTrainer(model=script_args.model_name_or_path, reward_funcs=reward_len, args=training_args,
                      train_dataset=dataset)
trainer.train()
with open(os.path.join(output_dir, "run_config.json")) as handle:
    assert json.load(handle)["max_completion_length"] == 6
