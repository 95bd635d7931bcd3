"""Sampling a step's completions with the generation engine: all of a process's rows in one batched call.

Each prompt is repeated `num_generations` times; row g of prompt i is sampled with the key (seed, step, i, g)
(`GenerationEngine.generate`'s `row_keys`), so its completion depends on nothing else in the batch: it is the same
however the prompts are split between processes or calls (`generation_rows_per_call`), and the same after a resume.
`gather_completions` joins the processes' shares into the step's whole batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from runtime.generate import GenerationEngine
from runtime.grpo.config import GRPOConfig
from runtime.grpo.distributed import Distributed
from runtime.grpo.seeding import sampling_row_key


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
    num_generations: int | None = None,
) -> Completions:
    """`num_generations` (default `config.num_generations`) sampled completions of each prompt (token ids), keyed
    per (seed, step, index, generation); `prompts[i]` is prompt `first_prompt_index + i` of the step.

    Every process of an FSDP lockstep group makes the same number of engine calls: the trainer gives each the
    same number of prompts."""
    device = engine.model.device
    num_generations = num_generations or config.num_generations
    prompt_length = max(len(prompt) for prompt in prompts)
    prompt_ids = torch.tensor([[pad_token_id] * (prompt_length - len(prompt)) + prompt for prompt in prompts],
                              device=device).repeat_interleave(num_generations, dim=0)
    prompt_mask = torch.tensor([[0] * (prompt_length - len(prompt)) + [1] * len(prompt) for prompt in prompts],
                               device=device).repeat_interleave(num_generations, dim=0)
    row_keys = torch.tensor([sampling_row_key(config.seed, step, index, generation)
                             for index in range(first_prompt_index, first_prompt_index + len(prompts))
                             for generation in range(num_generations)], device=device)
    rows_per_call = config.generation_rows_per_call or len(row_keys)
    calls = []
    for first in range(0, len(row_keys), rows_per_call):
        rows = slice(first, first + rows_per_call)
        output = engine.generate(
            prompt_ids[rows],
            prompt_mask[rows],
            max_new_tokens=config.max_completion_length,
            do_sample=True,
            **config.sampling_options,
            eos_token_id=stop_token_ids,
            pad_token_id=pad_token_id,
            row_keys=row_keys[rows],
        )
        calls.append((output.sequences[:, prompt_length:], output.completion_mask))
    completion_length = max(tokens.shape[1] for tokens, _ in calls)
    completion_tokens = torch.cat([torch.nn.functional.pad(tokens, (0, completion_length - tokens.shape[1]),
                                                           value=pad_token_id) for tokens, _ in calls])
    completion_mask = torch.cat([torch.nn.functional.pad(mask, (0, completion_length - mask.shape[1]))
                                 for _, mask in calls])
    lengths = completion_mask.sum(1)
    last_tokens = completion_tokens.gather(1, (lengths - 1).clamp(min=0)[:, None]).squeeze(1)
    stop_ids = torch.tensor(stop_token_ids, device=device)
    return Completions(
        input_ids=torch.cat([prompt_ids, completion_tokens], dim=1),
        attention_mask=torch.cat([prompt_mask, completion_mask], dim=1),
        prompt_length=prompt_length,
        completion_ids=[row[:length].tolist() for row, length in zip(completion_tokens, lengths.tolist(), strict=True)],
        is_truncated=(lengths == config.max_completion_length) & ~torch.isin(last_tokens, stop_ids),
    )


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
