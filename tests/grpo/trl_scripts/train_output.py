"""A script that reads train()'s TrainOutput, checks the main process, and sets the batching, iteration,
sampling and optimizer fields: steps_per_generation, num_iterations, generation_kwargs, adamw_8bit."""

import json
import os
import sys

from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
dataset = Dataset.from_dict({"prompt": [[{"role": "user", "content": f"Name color {n}."}] for n in range(8)],
                             "color": ["red", "blue"] * 4})


def mentions_color(prompts, completions, color, **kwargs):
    return [float(expected in completion[0]["content"].lower()) for completion, expected in
            zip(completions, color, strict=True)]


config = GRPOConfig(
    output_dir=output_dir, max_steps=2, per_device_train_batch_size=2, gradient_accumulation_steps=2,
    steps_per_generation=4, num_iterations=2, num_generations=4, max_completion_length=6, scale_rewards=False,
    generation_kwargs={"top_p": 0.9}, optim="adamw_8bit", warmup_steps=1, report_to=["tensorboard"],
    log_completions=True, num_completions_to_print=1, logging_steps=1, disable_dropout=True,
)
trainer = GRPOTrainer(model_dir, mentions_color, args=config, train_dataset=dataset)
assert trainer.processing_class is not None
train_result = trainer.train()
metrics = train_result.metrics
if trainer.is_world_process_zero():
    with open(os.path.join(output_dir, "train_results.json"), "w") as handle:
        json.dump({"global_step": train_result.global_step, "training_loss": train_result.training_loss,
                   **metrics}, handle)
assert train_result.global_step == 2 and "train_runtime" in metrics
