"""The decode loop, as gpt-fast writes it: sample a token per row, stop rows, feed the tokens back; then trim.

`decode_n_tokens` knows nothing of caches or compilation: it calls a `DecodeStep` (`runtime.decode_step`) with
each step's tokens and gets the next logits back. Sampling is `runtime.sampling.sample_next`, with per-row keyed
noise (`runtime.keyed_noise`) when the request has `row_keys`. A finished row goes on being fed the pad token, its
log-probs are 0 and its completion mask 0 after its stop step.

Whether every row has stopped is read on the host only every `STOP_CHECK_INTERVAL` steps: each read waits for the
device to drain, so reading every step would leave it idle while the next step is launched. The steps run past the
last stop are cut off by `trimmed_output`, so the output is the same as stopping at once. With a lockstep group the
read is combined over the group (`any_unfinished`), so every process runs the same steps; its own output is trimmed
just the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .generation_request import GenerationRequest
from .keyed_noise import gumbel_noise
from .sampling import mark_seen, sample_next, seen_tokens

STOP_CHECK_INTERVAL = 16

DecodeStep = Callable[[torch.Tensor, int], torch.Tensor]
"""(tokens [B] of step `index`, index) -> logits [B, vocab] of the next position."""


@dataclass
class GenerationOutput:
    sequences: torch.Tensor  # [B, prompt + generated]
    logprobs: torch.Tensor  # [B, generated] log-prob of each generated token (0 after a row finished)
    completion_mask: torch.Tensor  # [B, generated] 1 up to and including a row's stop token


@dataclass
class DecodedTokens:
    """Every step's tokens [B] (pad once a row had stopped), log-probs [B] (0 there) and whether each row was
    still generating [B] bool, in step order; the loop may have run past the last row's stop."""

    tokens: list[torch.Tensor] = field(default_factory=list)
    logprobs: list[torch.Tensor] = field(default_factory=list)
    alive: list[torch.Tensor] = field(default_factory=list)


def rows_unfinished(unfinished: torch.Tensor) -> bool:
    """Whether a row is still generating (`decode_n_tokens`' host read without a lockstep group)."""
    return bool(unfinished.any())


def decode_n_tokens(
    decode_step: DecodeStep,
    logits: torch.Tensor,
    request: GenerationRequest,
    prompt_ids: torch.Tensor,
    prompt_mask: torch.Tensor,
    *,
    noise: Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor] = gumbel_noise,
    any_unfinished: Callable[[torch.Tensor], bool] = rows_unfinished,
) -> DecodedTokens:
    """Up to `request.max_new_tokens` tokens per row, from the prefill's last `logits` [B, vocab].

    `prompt_ids`, `prompt_mask` [B, P]: the prompts as they were prefilled (their tokens count as seen for the
    repetition penalty). `noise` is `gumbel_noise` or its compiled form. `any_unfinished` is the host read of "is a
    row still generating?" every `STOP_CHECK_INTERVAL` steps; the loop stops when it says no, or after the last
    step. `request.on_token` gets each step's tokens once the next step is queued, and the last step's at the end.
    """
    sampling, on_token = request.sampling, request.on_token
    seen = seen_tokens(prompt_ids, prompt_mask, logits.shape[-1]) if sampling.penalizes_repetition else None
    unfinished = torch.ones(request.batch_size, dtype=torch.bool, device=logits.device)
    steps = torch.arange(request.max_new_tokens, device=logits.device)  # tensors: one compiled noise graph
    decoded = DecodedTokens()
    for index in range(request.max_new_tokens):
        keyed = noise(request.row_keys, steps[index], logits.shape[-1]) if request.keyed_sampling else None
        token, logprob = sample_next(logits, sampling, request.generator, keyed, seen)
        token = torch.where(unfinished, token, torch.full_like(token, request.pad_token_id))
        if seen is not None:
            mark_seen(seen, token)
        decoded.tokens.append(token)
        decoded.logprobs.append(torch.where(unfinished, logprob, torch.zeros_like(logprob)))
        decoded.alive.append(unfinished.clone())
        unfinished &= ~stopped_rows(decoded.tokens, request)
        checks_now = (index + 1) % STOP_CHECK_INTERVAL == 0
        if index == request.max_new_tokens - 1 or (checks_now and not any_unfinished(unfinished)):
            break
        logits = decode_step(token, index)
        if on_token is not None:
            on_token(token)
    if on_token is not None:
        on_token(decoded.tokens[-1])  # the step the loop ended on
    return decoded


def stopped_rows(tokens: list[torch.Tensor], request: GenerationRequest) -> torch.Tensor:
    """[B] bool: rows whose last token is a stop token, or whose last tokens are one of the stop sequences."""
    token = tokens[-1]
    stop_ids = request.stop_token_ids
    stopped = torch.isin(token, stop_ids) if stop_ids.numel() else torch.zeros_like(token, dtype=torch.bool)
    for sequence in request.stop_sequences:
        if len(tokens) >= len(sequence):
            stopped |= (torch.stack(tokens[-len(sequence) :], dim=1) == sequence).all(dim=1)
    return stopped


def trimmed_output(input_ids: torch.Tensor, decoded: DecodedTokens) -> GenerationOutput:
    """The prompts followed by the decoded steps up to the last one on which a row was still generating."""
    alive = torch.stack(decoded.alive, dim=1)
    steps = int(alive.any(0).nonzero().max()) + 1
    return GenerationOutput(
        sequences=torch.cat([input_ids, torch.stack(decoded.tokens[:steps], dim=1)], dim=1),
        logprobs=torch.stack(decoded.logprobs[:steps], dim=1),
        completion_mask=alive[:, :steps].long(),
    )
