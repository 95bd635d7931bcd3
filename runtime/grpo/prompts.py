"""The training dataset as prompts: rows with a "prompt" column, their token ids, and which rows a step uses.

A prompt is a list of token ids, a string, or a conversation (a list of {"role", "content"} messages, as in TRL);
strings and conversations need a tokenizer (`processing_class`). Other columns travel to the reward functions.
A conversation is rendered with the tokenizer's chat template and `chat_template_kwargs`, plus, per row, the
row's `chat_template_kwargs` column (TRL's convention) and every column the template itself names (so a
`reasoning_effort` column sets each row's reasoning effort in gpt-oss's template).
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Sequence
from typing import Any

import jinja2
from jinja2 import meta

from runtime.grpo.errors import GRPODatasetError
from runtime.grpo.seeding import epoch_order

PROMPT_COLUMN = "prompt"
TEMPLATE_KWARGS_COLUMN = "chat_template_kwargs"
_TEMPLATE_OWN_VARIABLES = frozenset({"messages", "add_generation_prompt", "tools", "documents"})
_LISTED_ROWS = 10

logger = logging.getLogger(__name__)


class PromptDataset:
    """Read-only view of a `datasets.Dataset` or a list of dicts that turns each row's prompt into token ids.

    Every prompt is tokenized once, here: token ids are checked against the vocabulary, prompts longer than
    `max_prompt_length` (None: no limit) are reported (rows and count) and then truncated on the left, and prompts
    that leave no room for `max_completion_length` tokens in the model's context are refused. Raises
    `GRPODatasetError` for a dataset that cannot be indexed (a `datasets.IterableDataset`), an empty dataset, a row
    without a prompt, or text prompts without a tokenizer.
    """

    def __init__(
        self, dataset: Any, processing_class: Any, max_prompt_length: int | None, vocab_size: int,
        chat_template_kwargs: dict[str, Any] | None = None, context_length: int | None = None,
        max_completion_length: int = 0,
    ) -> None:
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise GRPODatasetError(
                f"the dataset ({type(dataset).__name__}) cannot be indexed: prompts are held in memory and "
                "drawn by seeded index. Materialise a finite stream first, e.g. Dataset.from_list(list(dataset)) "
                "or list(dataset.take(N))."
            )
        if len(dataset) == 0:
            raise GRPODatasetError("the dataset is empty: pass at least one row with a 'prompt'.")
        self.dataset = dataset
        self.processing_class = processing_class
        self.max_prompt_length = max_prompt_length
        self.vocab_size = vocab_size
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.template_variables = _template_variables(processing_class)
        ids = [self._prompt_ids(index) for index in range(len(dataset))]
        self._check_lengths(ids, context_length, max_completion_length)
        self._ids = [row[-max_prompt_length:] if max_prompt_length is not None else row for row in ids]

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
        return self._ids[index]

    def _prompt_ids(self, index: int) -> list[int]:
        row = self.row(index)
        prompt = row[PROMPT_COLUMN]
        ids = _checked_ids(prompt, index, self.vocab_size) if is_token_ids(prompt) else self._encode(row, index)
        if not ids:
            raise GRPODatasetError(f"dataset row {index} has an empty prompt: give every prompt at least one token.")
        return ids

    def _encode(self, row: dict, index: int) -> list[int]:
        prompt = row[PROMPT_COLUMN]
        if self.processing_class is None:
            raise GRPODatasetError(
                f"dataset row {index} has a {type(prompt).__name__} prompt, which needs a tokenizer: pass "
                "processing_class=<tokenizer> to GRPOTrainer (--tokenizer), or give prompts as lists of token ids."
            )
        if not isinstance(prompt, str):  # a conversation: TRL applies the chat template first
            prompt = self.processing_class.apply_chat_template(
                prompt, tokenize=False, add_generation_prompt=True, **self._template_kwargs(row)
            )
        return list(self.processing_class(prompt, add_special_tokens=False)["input_ids"])

    def _template_kwargs(self, row: dict) -> dict[str, Any]:
        """chat_template_kwargs, then the row's own, then the row's columns that the template names."""
        named = {name: value for name, value in row.items()
                 if name in self.template_variables and name != PROMPT_COLUMN}
        return {**self.chat_template_kwargs, **(row.get(TEMPLATE_KWARGS_COLUMN) or {}), **named}

    def _check_lengths(self, ids: list[list[int]], context_length: int | None, max_completion_length: int) -> None:
        if context_length is not None:
            room = context_length - max_completion_length
            limit = self.max_prompt_length
            too_long = [index for index, row in enumerate(ids) if min(len(row), limit or len(row)) > room]
            if too_long:
                raise GRPODatasetError(
                    f"{len(too_long)} of {len(ids)} prompts leave no room for max_completion_length="
                    f"{max_completion_length} tokens in the model's context of {context_length} (rows "
                    f"{_listed(too_long)}): shorten them, set max_prompt_length, or lower max_completion_length."
                )
        if self.max_prompt_length is not None:
            cut = [index for index, row in enumerate(ids) if len(row) > self.max_prompt_length]
            if cut:
                logger.warning("%d of %d prompts are longer than max_prompt_length=%d tokens and are cut on the left "
                               "(rows %s); raise max_prompt_length (None: no limit) to keep them whole.",
                               len(cut), len(ids), self.max_prompt_length, _listed(cut))


def _template_variables(processing_class: Any) -> frozenset[str]:
    """The variables the tokenizer's chat template reads, besides the messages and the template's own switches."""
    template = getattr(processing_class, "chat_template", None)
    if not isinstance(template, str):
        return frozenset()
    try:
        names = meta.find_undeclared_variables(jinja2.Environment().parse(template))
    except jinja2.TemplateError:
        return frozenset()
    return frozenset(names) - _TEMPLATE_OWN_VARIABLES


def _listed(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:_LISTED_ROWS]))
    return shown + (f" and {len(rows) - _LISTED_ROWS} more" if len(rows) > _LISTED_ROWS else "")


def needs_tokenizer(dataset: Any) -> bool:
    """Whether the dataset's prompts are text or conversations (judged by its first row)."""
    try:
        return not is_token_ids(dict(dataset[0])[PROMPT_COLUMN])
    except (IndexError, KeyError, TypeError, ValueError):
        return False  # PromptDataset says what is wrong with the dataset


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
