"""Sampling a step's completions with the generation engine, one seeded engine call per prompt group.

Each prompt is repeated `num_generations` times and generated on its own, with a generator seeded from
(seed, step, prompt index): a group's completions depend on nothing else in the batch, so they are the same
however the prompts are split between processes, and the same after a resume. `gather_completions` joins the
processes' shares into the step's whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from runtime.generate import GenerationEngine
from runtime.grpo.config import GRPOConfig
from runtime.grpo.distributed import Distributed
from runtime.grpo.seeding import sampling_generator


@dataclass
class Completions:
    """Prompts and sampled completions of one step, `num_generations` consecutive rows per prompt.

    input_ids [B, P + C]: prompts left-padded to P tokens, then completions right-padded to C tokens;
    attention_mask [B, P + C]: 1 on real prompt tokens and generated tokens (up to and including the stop token);
    completion_ids: each row's generated tokens without padding, as lists (what reward functions receive);
    is_truncated [B]: rows that used all `max_completion_length` tokens without a stop token.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    prompt_length: int
    completion_ids: list[list[int]]
    is_truncated: torch.Tensor

    @property
    def completion_mask(self) -> torch.Tensor:
        """[B, C] 1 on generated tokens, 0 on padding."""
        return self.attention_mask[:, self.prompt_length :]


def sample_completions(
    engine: GenerationEngine,
    prompts: list[list[int]],
    config: GRPOConfig,
    step: int,
    stop_token_ids: list[int],
    pad_token_id: int,
    first_prompt_index: int = 0,
) -> Completions:
    """`config.num_generations` sampled completions of each prompt (token ids), seeded per (seed, step, index);
    `prompts[i]` is prompt `first_prompt_index + i` of the step."""
    device = engine.model.device
    groups = []
    for prompt_index, prompt in enumerate(prompts, start=first_prompt_index):
        prompt_ids = torch.tensor([prompt], device=device).expand(config.num_generations, -1)
        output = engine.generate(
            prompt_ids,
            max_new_tokens=config.max_completion_length,
            do_sample=True,
            temperature=config.temperature,
            top_k=config.top_k or None,
            top_p=config.top_p,
            eos_token_id=stop_token_ids,
            pad_token_id=pad_token_id,
            generator=sampling_generator(device, config.seed, step, prompt_index),
        )
        groups.append((output.sequences[:, len(prompt) :], output.completion_mask))
    prompt_length = max(len(prompt) for prompt in prompts)
    completion_length = max(tokens.shape[1] for tokens, _ in groups)
    padded = [
        _padded_group(prompt, tokens, mask, prompt_length, completion_length, pad_token_id)
        for prompt, (tokens, mask) in zip(prompts, groups, strict=True)
    ]
    input_ids = torch.cat([ids for ids, _ in padded])
    attention_mask = torch.cat([mask for _, mask in padded])
    completion_tokens = input_ids[:, prompt_length:]
    lengths = attention_mask[:, prompt_length:].sum(1)
    last_tokens = completion_tokens.gather(1, (lengths - 1).clamp(min=0)[:, None]).squeeze(1)
    stop_ids = torch.tensor(stop_token_ids, device=device)
    return Completions(
        input_ids=input_ids,
        attention_mask=attention_mask,
        prompt_length=prompt_length,
        completion_ids=[row[:length].tolist() for row, length in zip(completion_tokens, lengths.tolist(), strict=True)],
        is_truncated=(lengths == config.max_completion_length) & ~torch.isin(last_tokens, stop_ids),
    )


def _padded_group(
    prompt: list[int],
    tokens: torch.Tensor,
    mask: torch.Tensor,
    prompt_length: int,
    completion_length: int,
    pad_token_id: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A group's [G, P + C] ids and attention mask: the prompt left-padded to P, completions right-padded to C."""
    count, device = tokens.shape[0], tokens.device
    left, right = prompt_length - len(prompt), completion_length - tokens.shape[1]
    prompt_ids = torch.tensor([pad_token_id] * left + prompt, device=device).expand(count, -1)
    prompt_mask = (torch.arange(prompt_length, device=device) >= left).long().expand(count, -1)
    ids = torch.cat([prompt_ids, torch.nn.functional.pad(tokens, (0, right), value=pad_token_id)], dim=1)
    return ids, torch.cat([prompt_mask, torch.nn.functional.pad(mask, (0, right))], dim=1)


def gather_completions(completions: Completions, distributed: Distributed, pad_token_id: int) -> Completions:
    """Every process's completions in rank order, padded to the longest prompt and completion of any process."""
    if distributed.world_size == 1:
        return completions
    prompt_length = distributed.max(completions.prompt_length)
    completion_length = distributed.max(completions.input_ids.shape[1] - completions.prompt_length)

    def padded(tokens: torch.Tensor, value: int) -> torch.Tensor:
        left = prompt_length - completions.prompt_length
        right = completion_length - (tokens.shape[1] - completions.prompt_length)
        return torch.nn.functional.pad(tokens, (left, right), value=value)

    return Completions(
        input_ids=distributed.gather_rows(padded(completions.input_ids, pad_token_id)),
        attention_mask=distributed.gather_rows(padded(completions.attention_mask, 0)),
        prompt_length=prompt_length,
        completion_ids=distributed.gather_objects(completions.completion_ids),
        is_truncated=distributed.gather_rows(completions.is_truncated),
    )
