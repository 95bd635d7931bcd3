"""The training dataset as prompts: rows with a "prompt" column, their token ids, and which rows a step uses.

A prompt is a list of token ids, a string, or a conversation (a list of {"role", "content"} messages, as in TRL);
strings and conversations need a tokenizer (`processing_class`). Other columns travel to the reward functions.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

from runtime.grpo.errors import GRPODatasetError
from runtime.grpo.seeding import epoch_order

PROMPT_COLUMN = "prompt"


class PromptDataset:
    """Read-only view of a `datasets.Dataset` or a list of dicts that turns each row's prompt into token ids.

    Token ids are checked against the vocabulary and truncated on the left to `max_prompt_length` (None: no limit).
    Raises `GRPODatasetError` for an empty dataset, a row without a prompt, or text prompts without a tokenizer.
    """

    def __init__(
        self, dataset: Any, processing_class: Any, max_prompt_length: int | None, vocab_size: int
    ) -> None:
        if len(dataset) == 0:
            raise GRPODatasetError("the training dataset is empty: pass at least one row with a 'prompt'.")
        self.dataset = dataset
        self.processing_class = processing_class
        self.max_prompt_length = max_prompt_length
        self.vocab_size = vocab_size
        self.token_ids(0)  # refuse an unusable dataset now rather than at the first step

    def __len__(self) -> int:
        return len(self.dataset)

    def row(self, index: int) -> dict:
        """Row `index` as a dict of columns; raises `GRPODatasetError` when it has no prompt."""
        row = dict(self.dataset[index])
        if PROMPT_COLUMN not in row:
            raise GRPODatasetError(
                f"dataset row {index} has no {PROMPT_COLUMN!r} column (columns: {', '.join(row) or 'none'}): "
                "give every row a prompt (token ids, a string, or a list of chat messages)."
            )
        return row

    def token_ids(self, index: int) -> list[int]:
        """The token ids of row `index`'s prompt, left-truncated to `max_prompt_length`."""
        prompt = self.row(index)[PROMPT_COLUMN]
        ids = _checked_ids(prompt, index, self.vocab_size) if is_token_ids(prompt) else self._encode(prompt, index)
        if not ids:
            raise GRPODatasetError(f"dataset row {index} has an empty prompt: give every prompt at least one token.")
        return ids[-self.max_prompt_length :] if self.max_prompt_length is not None else ids

    def _encode(self, prompt: Any, index: int) -> list[int]:
        if self.processing_class is None:
            raise GRPODatasetError(
                f"dataset row {index} has a {type(prompt).__name__} prompt, which needs a tokenizer: pass "
                "processing_class=<tokenizer> to GRPOTrainer, or give prompts as lists of token ids."
            )
        if not isinstance(prompt, str):  # a conversation: TRL applies the chat template first
            prompt = self.processing_class.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        return list(self.processing_class(prompt, add_special_tokens=False)["input_ids"])


def is_token_ids(prompt: Any) -> bool:
    """Whether a prompt is a sequence of token ids (not a string, not a list of chat messages)."""
    return isinstance(prompt, Sequence) and not isinstance(prompt, str) and not (
        prompt and isinstance(prompt[0], dict)
    )


def _checked_ids(prompt: Sequence, index: int, vocab_size: int) -> list[int]:
    bad = [token for token in prompt if not isinstance(token, numbers.Integral) or not 0 <= token < vocab_size]
    if bad:
        raise GRPODatasetError(
            f"dataset row {index}'s prompt holds {bad[0]!r}, not a token id of the model's vocabulary "
            f"[0, {vocab_size}): give token ids, or strings with a processing_class."
        )
    return [int(token) for token in prompt]


def rounds_per_epoch(num_prompts: int, prompts_per_round: int) -> int:
    """Generation rounds in one pass over the dataset; a last incomplete batch is dropped (as TRL's sampler)."""
    if num_prompts < prompts_per_round:
        raise GRPODatasetError(
            f"the dataset has {num_prompts} prompts but one step needs {prompts_per_round} "
            "(per_device_train_batch_size * gradient_accumulation_steps / num_generations): "
            "pass more prompts or a smaller batch."
        )
    return num_prompts // prompts_per_round


def round_prompt_indices(seed: int, round_index: int, prompts_per_round: int, num_prompts: int) -> list[int]:
    """Dataset rows of generation round `round_index`: consecutive slices of a per-epoch permutation."""
    per_epoch = rounds_per_epoch(num_prompts, prompts_per_round)
    epoch, position = divmod(round_index, per_epoch)
    start = position * prompts_per_round
    return epoch_order(seed, epoch, num_prompts)[start : start + prompts_per_round]
