"""A GRPO script written for TRL, run on gpt-oss-rewrite: only the import line differs from TRL's.

    rewrite build --preset tiny --out build/tiny      # or any `rewrite build` / transformers gpt-oss directory
    python examples/grpo_own_task.py build/tiny runs/example [max_steps]

The task: answer in as many words as the row's `target_words` column asks. Two rewards: one reads the column,
the other reads `trainer_state` to ramp a brevity bonus in over the run.
"""

import sys

from datasets import Dataset
from peft import LoraConfig

from runtime.grpo import GRPOConfig, GRPOTrainer  # with TRL: from trl import GRPOConfig, GRPOTrainer

model_dir = sys.argv[1] if len(sys.argv) > 1 else "build/tiny"
output_dir = sys.argv[2] if len(sys.argv) > 2 else "runs/example"
max_steps = int(sys.argv[3]) if len(sys.argv) > 3 else 100

questions = ["Name a prime number.", "Describe the sea.", "What is a matrix?", "Say hello."]
dataset = Dataset.from_list([
    {"prompt": [{"role": "user", "content": question}], "target_words": 1 + index % 4}
    for index, question in enumerate(questions * 8)
])


def word_count_reward(completions, target_words, **kwargs):
    """1 when the final answer has `target_words` words, less the further it is."""
    counts = [len(completion[0]["content"].split()) for completion in completions]
    return [1.0 / (1 + abs(count - target)) for count, target in zip(counts, target_words, strict=True)]


def brevity_reward(completions, trainer_state, **kwargs):
    """A bonus for short answers that grows from 0 to 1 over the run."""
    ramp = trainer_state.global_step / max(1, trainer_state.max_steps)
    return [ramp / (1 + len(completion[0]["content"])) for completion in completions]


training_args = GRPOConfig(
    output_dir=output_dir,
    learning_rate=5e-5,
    per_device_train_batch_size=4,
    num_generations=4,
    max_completion_length=32,
    max_steps=max_steps,
    logging_steps=1,
    save_steps=50,
    reward_weights=[1.0, 0.5],
    report_to="tensorboard",
    log_completions=True,
    num_completions_to_print=2,
    chat_template_kwargs={"reasoning_effort": "low"},
)
trainer = GRPOTrainer(
    model=model_dir,
    reward_funcs=[word_count_reward, brevity_reward],
    args=training_args,
    train_dataset=dataset,
    peft_config=LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, target_modules=["q_proj", "v_proj"]),
)
trainer.train()
trainer.save_model(output_dir)
