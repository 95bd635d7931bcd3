"""The shape of TRL's own trl/scripts/grpo.py: TrlParser over (ScriptArguments, GRPOConfig, ModelConfig),
get_peft_config, trainer.accelerator.print, save_model(training_args.output_dir)."""

import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer
from trl.scripts.utils import ScriptArguments, TrlParser
from trl.trainer.model_config import ModelConfig
from trl.trainer.utils import get_peft_config


def reward_len(completions, **kwargs):
    return [-abs(10 - len(completion)) for completion in completions]


def main(script_args, training_args, model_args):
    dataset = Dataset.from_dict({"prompt": [f"Greet person {n}." for n in range(8)]})
    trainer = GRPOTrainer(
        model=model_args.model_name_or_path,
        reward_funcs=[reward_len],
        args=training_args,
        train_dataset=dataset,
        eval_dataset=None,
        peft_config=get_peft_config(model_args),
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    trainer.accelerator.print("Training completed.")
    trainer.save_model(training_args.output_dir)


if __name__ == "__main__":
    model_dir, output_dir = sys.argv[1:3]
    parser = TrlParser((ScriptArguments, GRPOConfig, ModelConfig))
    script_args, training_args, model_args = parser.parse_args_and_config([
        "--model_name_or_path", model_dir, "--output_dir", output_dir, "--dataset_name", "local",
        "--max_steps", "2", "--per_device_train_batch_size", "4", "--num_generations", "4",
        "--max_completion_length", "8", "--use_peft", "--lora_r", "8", "--lora_target_modules", "q_proj", "k_proj",
        "--logging_steps", "1", "--report_to", "none", "--bf16", "False",
    ])
    main(script_args, training_args, model_args)
