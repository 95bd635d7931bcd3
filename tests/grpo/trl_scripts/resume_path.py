"""Resume from an explicit checkpoint path (a string), as TRL scripts pass training_args.resume_from_checkpoint."""

import os
import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_dict({"prompt": [f"Describe {n}." for n in range(8)]})


def reward_len(completions, **kwargs):
    return [float(len(completion)) for completion in completions]


def trainer_for(max_steps, **extra):
    args = GRPOConfig(output_dir=output_dir, max_steps=max_steps, per_device_train_batch_size=4, num_generations=2,
                      max_completion_length=6, save_steps=1, logging_steps=1, report_to="none", **extra)
    return GRPOTrainer(model_dir, reward_len, args, dataset)


trainer_for(2).train()
checkpoint = os.path.join(output_dir, "checkpoint-1")
resumed = trainer_for(3, resume_from_checkpoint=checkpoint)
resumed.train(resume_from_checkpoint=resumed.args.resume_from_checkpoint)
assert [record["step"] for record in resumed.state.log_history if "loss" in record] == [2, 3]
resumed.save_model(os.path.join(output_dir, "final"))
assert os.path.isfile(os.path.join(output_dir, "final", "adapter_config.json"))
