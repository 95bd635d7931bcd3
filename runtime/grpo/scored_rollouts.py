"""One round of rollouts: sample a set of prompts, put the completions in the form rewards take, score them.

Each process samples and scores its share of the prompts; the completions, the [B, F] rewards and the metrics come
back gathered over the processes, in rank order (`runtime.grpo.rollout`, `runtime.grpo.scoring`). Training steps
and evaluation both use it; only a training round writes the completion log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from runtime.generate import GenerationEngine
from runtime.grpo.completion_forms import completions_for_rewards
from runtime.grpo.completion_log import CompletionLog
from runtime.grpo.config import GRPOConfig
from runtime.grpo.distributed import Distributed
from runtime.grpo.prompts import PROMPT_COLUMN, PromptDataset
from runtime.grpo.rollout import Completions, gather_completions, sample_completions
from runtime.grpo.scoring import PendingLogs, RewardFunction, score_completions


class ScoredRollouts:
    """Samples and scores rounds for a trainer; `trainer_state` is what reward functions get as such."""

    def __init__(self, engine: GenerationEngine, reward_funcs: Sequence[RewardFunction], reward_names: list[str],
                 processing_class: Any, stop_token_ids: list[int], pad_token_id: int, args: GRPOConfig,
                 distributed: Distributed, trainer_state: Any) -> None:
        self.engine = engine
        self.reward_funcs = reward_funcs
        self.reward_names = reward_names
        self.processing_class = processing_class
        self.stop_token_ids = stop_token_ids
        self.pad_token_id = pad_token_id
        self.args = args
        self.distributed = distributed
        self.trainer_state = trainer_state

    def __call__(
        self, dataset: PromptDataset, indices: list[int], step: int, num_generations: int,
        completion_log: CompletionLog | None = None,
    ) -> tuple[Completions, torch.Tensor, dict[str, float]]:
        """`indices` of `dataset`, `num_generations` completions each, sampled with the keys of `step`:
        (completions, [B, F] rewards, metrics), gathered over the processes; rank 0's `completion_log`, if given,
        receives every completion with its rewards."""
        first_index, indices = self.distributed.share(indices)
        rows = [dataset.row(index) for index in indices]
        self.engine.model.eval()
        completions = sample_completions(self.engine, [dataset.token_ids(index) for index in indices],
                                         self.args, step, self.stop_token_ids, self.pad_token_id, first_index,
                                         num_generations)
        self.engine.release_caches()  # training and scoring get the KV caches' memory
        repeated = [row for row in rows for _ in range(num_generations)]
        prompts = [row[PROMPT_COLUMN] for row in repeated]
        given, completion_metrics = completions_for_rewards(completions.completion_ids, prompts[0],
                                                            self.processing_class)
        columns = {name: [row.get(name) for row in repeated] for name in rows[0] if name != PROMPT_COLUMN}
        pending = PendingLogs()
        row_labels = [f"completion {generation} of dataset row {index}"
                      for index in indices for generation in range(num_generations)]
        per_func_rewards = score_completions(
            self.reward_funcs, prompts, given, completions.completion_ids,
            {**columns, "trainer_state": self.trainer_state, "log_extra": pending.log_extra,
             "log_metric": pending.log_metric},
            row_labels,
        )
        logged = completion_log is not None
        if self.distributed.world_size > 1:
            logged = bool(self.distributed.broadcast_object(logged))
        shown = []
        if logged:
            shown = self.distributed.gather_objects(
                [{"step": step, "prompt": prompt, "completion": completion, **extra}
                 for prompt, completion, extra in zip(prompts, given, pending.rows(len(prompts)), strict=True)]
            )
        per_func_rewards = self.distributed.gather_rows(per_func_rewards)
        completions = gather_completions(completions, self.distributed, self.pad_token_id)
        metrics = {**self.distributed.mean_values(completion_metrics),
                   **self.distributed.mean_values(pending.metrics()),
                   **completion_length_metrics(completions.completion_mask.sum(1).float(), completions.is_truncated)}
        if completion_log is not None:
            completion_log.write(shown, per_func_rewards, self.reward_names)
        return completions, per_func_rewards, metrics


def completion_length_metrics(lengths: torch.Tensor, is_truncated: torch.Tensor) -> dict[str, float]:
    """TRL's completions/* metrics of all processes' completions: mean, min and max length in tokens, the share
    truncated at max_completion_length, and the lengths of the terminated ones (0 when none terminated, as TRL)."""
    terminated = lengths[~is_truncated]
    if terminated.numel() == 0:
        terminated = torch.zeros(1)
    return {
        "completions/mean_length": lengths.mean().item(), "completions/min_length": lengths.min().item(),
        "completions/max_length": lengths.max().item(), "completions/clipped_ratio": is_truncated.float().mean().item(),
        "completions/mean_terminated_length": terminated.mean().item(),
        "completions/min_terminated_length": terminated.min().item(),
        "completions/max_terminated_length": terminated.max().item(),
    }
