"""Choosing the next token from logits: a small pure function, as in gpt-fast.

The scores are transformers' `generate` chain, in its order: the repetition penalty (a logits processor, so greedy
decoding applies it too), then, when sampling, temperature, top-k, top-p and min-p. Every option is a Python value
fixed for the whole request, so a step never branches on tensor values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from rewrite.errors import GenerationError


@dataclass(frozen=True)
class SamplingOptions:
    do_sample: bool = False
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    repetition_penalty: float = 1.0

    def __post_init__(self):
        # written as `not (x in range)` so that NaN, which compares false both ways, is refused as well
        if not (_is_number(self.temperature) and self.temperature > 0):
            raise GenerationError(f"temperature must be > 0, got {self.temperature}; use do_sample=False for greedy")
        if self.top_k is not None and not (is_plain_int(self.top_k) and self.top_k >= 1):
            raise GenerationError(f"top_k must be a positive int or None, got {self.top_k}")
        if self.top_p is not None and not (_is_number(self.top_p) and 0 < self.top_p <= 1):
            raise GenerationError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.min_p is not None and not (_is_number(self.min_p) and 0 <= self.min_p <= 1):
            raise GenerationError(f"min_p must be in [0, 1] or None, got {self.min_p}")
        if not (_is_number(self.repetition_penalty) and self.repetition_penalty > 0):
            raise GenerationError(f"repetition_penalty must be > 0 (1.0 disables it), got {self.repetition_penalty}")

    @property
    def penalizes_repetition(self) -> bool:
        """Whether the scores depend on the tokens seen so far (`seen_tokens`)."""
        return self.repetition_penalty != 1.0


def is_plain_int(value: object) -> bool:
    """An int that is not a bool (`True` is an int to Python, never a count or a token id here)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return is_plain_int(value) or isinstance(value, float)


def seen_tokens(input_ids: torch.Tensor, attention_mask: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """[B, vocab_size] bool: the tokens of each row's prompt, padding left out (what transformers' repetition
    penalty counts with its `prompt_ignore_length`); `mark_seen` adds each generated token."""
    ids = input_ids.masked_fill(attention_mask == 0, vocab_size)  # padding lands in a column dropped below
    seen = torch.zeros(input_ids.shape[0], vocab_size + 1, dtype=torch.bool, device=input_ids.device)
    return seen.scatter_(1, ids, True)[:, :vocab_size].contiguous()


def mark_seen(seen: torch.Tensor, tokens: torch.Tensor) -> None:
    """Add `tokens` [B] (one per row) to `seen` [B, vocab], in place."""
    seen.scatter_(1, tokens[:, None], True)


def penalized_logits(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """float32 logits with those of `seen` tokens divided by `penalty` when positive, multiplied when negative
    (transformers' RepetitionPenaltyLogitsProcessor)."""
    logits = logits.float()
    return torch.where(seen, torch.where(logits < 0, logits * penalty, logits / penalty), logits)


def filtered_logits(logits: torch.Tensor, options: SamplingOptions, seen: torch.Tensor | None = None) -> torch.Tensor:
    """float32 logits, repetition-penalized over `seen` (needed when `options.penalizes_repetition`), divided by
    the temperature, with everything outside top-k, the top-p nucleus and the min-p floor set to -inf."""
    logits = penalized_logits(logits, seen, options.repetition_penalty) if options.penalizes_repetition else logits
    logits = logits.float() / options.temperature
    if options.top_k is not None and options.top_k < logits.shape[-1]:
        kth = torch.topk(logits, options.top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if options.top_p is not None and options.top_p < 1:
        sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
        sorted_probabilities = sorted_logits.softmax(-1)
        # drop a token once the tokens before it already cover top_p (the first token always stays)
        drop_sorted = (sorted_probabilities.cumsum(-1) - sorted_probabilities) >= options.top_p
        drop = drop_sorted.scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    if options.min_p is not None:
        probabilities = logits.softmax(-1)
        # the most likely token always stays: its probability is not below min_p (<= 1) times itself
        floor = options.min_p * probabilities.amax(-1, keepdim=True)
        logits = logits.masked_fill(probabilities < floor, float("-inf"))
    return logits


def sample_next(
    logits: torch.Tensor, options: SamplingOptions, generator: torch.Generator | None = None,
    gumbel_noise: torch.Tensor | None = None, seen: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Next token ids [B] and their log-probs [B] under the tempered, unfiltered, unpenalized distribution.

    Sampling draws from `generator` (`torch.multinomial`), or with `gumbel_noise` [B, vocab] takes
    argmax(filtered scores + noise), which samples the same distribution (`runtime.keyed_noise`). Greedy takes the
    argmax of the (repetition-penalized) logits. `seen` [B, vocab] (`seen_tokens`) is needed when
    `options.penalizes_repetition`. The log-prob is log_softmax(logits / temperature) at the chosen token, the
    quantity GRPO compares against when it recomputes log-probs with the same temperature: the filters and the
    penalty shape the sampling, not the model's distribution.
    """
    if options.do_sample:
        scores = filtered_logits(logits, options, seen)
        if gumbel_noise is None:
            tokens = torch.multinomial(scores.softmax(-1), 1, generator=generator).squeeze(-1)
        else:
            tokens = (scores + gumbel_noise).argmax(-1)
        tempered = logits.float() / options.temperature
    else:
        scores = penalized_logits(logits, seen, options.repetition_penalty) if options.penalizes_repetition else logits
        tokens = scores.argmax(-1)
        tempered = logits.float()
    logprobs = tempered.log_softmax(-1).gather(-1, tokens[:, None]).squeeze(-1)
    return tokens, logprobs
