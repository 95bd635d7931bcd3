"""Choosing the next token from logits: a small pure function, as in gpt-fast."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class SamplingOptions:
    do_sample: bool = False
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self):
        from .errors import GenerationError

        if self.temperature <= 0:
            raise GenerationError(f"temperature must be > 0, got {self.temperature}; use do_sample=False for greedy")
        if self.top_k is not None and self.top_k < 1:
            raise GenerationError(f"top_k must be a positive int or None, got {self.top_k}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise GenerationError(f"top_p must be in (0, 1], got {self.top_p}")


def filtered_logits(logits: torch.Tensor, options: SamplingOptions) -> torch.Tensor:
    """float32 logits / temperature with everything outside top-k and the top-p nucleus set to -inf."""
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
    return logits


def sample_next(
    logits: torch.Tensor, options: SamplingOptions, generator: torch.Generator | None = None,
    gumbel_noise: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Next token ids [B] and their log-probs [B] under the tempered, unfiltered distribution.

    Sampling draws from `generator` (`torch.multinomial`), or with `gumbel_noise` [B, vocab] takes
    argmax(filtered scores + noise), which samples the same distribution (`runtime.keyed_noise`).
    The log-prob is log_softmax(logits / temperature) at the chosen token, the quantity GRPO compares
    against when it recomputes log-probs with the same temperature.
    """
    if options.do_sample:
        scores = filtered_logits(logits, options)
        if gumbel_noise is None:
            tokens = torch.multinomial(scores.softmax(-1), 1, generator=generator).squeeze(-1)
        else:
            tokens = (scores + gumbel_noise).argmax(-1)
        tempered = logits.float() / options.temperature
    else:
        tokens = logits.argmax(-1)
        tempered = logits.float()
    logprobs = tempered.log_softmax(-1).gather(-1, tokens[:, None]).squeeze(-1)
    return tokens, logprobs
