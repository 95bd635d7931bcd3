"""Completions in the form reward functions get them, as TRL 1.16 gives them.

Token-id prompts get token ids; text prompts get the completion decoded without special tokens; conversations get
one assistant message each, parsed from the token ids as harmony (`runtime.harmony.parse_harmony`): `thinking`
(the analysis channel), `content` (the final channel, "" when the completion was cut off before it) and
`tool_calls`. A completion that holds no harmony token (a base model's) is passed as its decoded text, with a
warning the first time. The share of conversational completions cut off before a final channel is a metric.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from runtime.grpo.prompts import is_token_ids
from runtime.harmony import parse_harmony

NO_FINAL_CHANNEL_METRIC = "completions/no_final_channel_frac"

logger = logging.getLogger(__name__)


def completions_for_rewards(
    completion_ids: list[list[int]], prompt: Any, processing_class: Any
) -> tuple[list[Any], dict[str, float]]:
    """(completions in the form of `prompt`, one of the step's prompts; metrics about them)."""
    if is_token_ids(prompt):
        return completion_ids, {}
    if isinstance(prompt, str):
        return processing_class.batch_decode(completion_ids, skip_special_tokens=True), {}
    parses = [parse_harmony(ids, processing_class) for ids in completion_ids]
    if any(not parse.is_harmony for parse in parses):
        _warn_not_harmony()
    harmony = [parse for parse in parses if parse.is_harmony]
    metrics = {}
    if harmony:
        metrics[NO_FINAL_CHANNEL_METRIC] = sum(not parse.reached_final for parse in harmony) / len(harmony)
    return [[parse.message] for parse in parses], metrics


@functools.cache  # once per process
def _warn_not_harmony() -> None:
    logger.warning("a completion holds no harmony token (<|channel|>, <|message|>, ...): it reaches the reward "
                   "functions as its decoded text in 'content'. A base model, or a tokenizer other than the "
                   "model's, does this; gpt-oss's own completions are harmony.")
