"""A plain list of dicts (text prompts) with the tokenizer as processing_class; a reward reading prompts,
completion_ids and an extra column, one returning None for some rows; reward_processing_classes given for
callables (TRL ignores them)."""

import sys

from transformers import AutoTokenizer
from trl import GRPOConfig, GRPOTrainer

model_dir, output_dir = sys.argv[1:3]
tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
rows = [{"prompt": f"Repeat the word {word}:", "word": word} for word in ["apple", "pear", "plum", "fig"] * 2]


def echoes_word(prompts, completions, completion_ids, word, **kwargs):
    assert len(prompts) == len(completions) == len(completion_ids) == len(word)
    assert all(isinstance(prompt, str) and expected in prompt for prompt, expected in zip(prompts, word, strict=True))
    return [float(expected in completion) for completion, expected in zip(completions, word, strict=True)]


def only_short_prompts(prompts, completions, **kwargs):
    return [None if len(prompt) > 25 else 1.0 for prompt in prompts]


args = GRPOConfig(output_dir=output_dir, max_steps=2, per_device_train_batch_size=4, num_generations=2,
                  max_completion_length=6, report_to="none", logging_steps=1, reward_weights=[1.0, 0.5])
trainer = GRPOTrainer(model=model_dir, reward_funcs=[echoes_word, only_short_prompts], args=args,
                      train_dataset=rows, processing_class=tokenizer,
                      reward_processing_classes=[tokenizer, None])
trainer.train()
assert "rewards/echoes_word/mean" in trainer.state.log_history[-2]
assert "train_loss" in trainer.state.log_history[-1]  # the summary, as TRL
