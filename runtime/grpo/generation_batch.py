"""`GenerationBatch`: what one round of generation and scoring hands to the optimization steps."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch


@dataclass
class GenerationBatch:
    """Completions with their advantages and the log-probs the loss compares against, B rows.

    input_ids, attention_mask [B, P + C]: prompts left-padded to `prompt_length` = P, completions right-padded;
    completion_mask [B, C]: tokens that count in the loss (generated tokens, minus truncated completions when
    `mask_truncated_completions` is on); advantages [B]; old_per_token_logps [B, C] or None (the policy's own
    detached log-probs, TRL's choice with one iteration); ref_per_token_logps [B, C] or None (beta == 0);
    num_items_in_batch: loss tokens of the whole generation batch (the dapo and cispo normaliser);
    metrics: the batch's reward statistics, logged with every step that trains on it.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    prompt_length: int
    completion_mask: torch.Tensor
    advantages: torch.Tensor
    old_per_token_logps: torch.Tensor | None
    ref_per_token_logps: torch.Tensor | None
    num_items_in_batch: int
    metrics: dict[str, float]

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def rows(self, indices: torch.Tensor) -> GenerationBatch:
        """The batch restricted to (or reordered by) `indices`; totals and metrics stay the whole batch's."""
        return dataclasses.replace(
            self, **{name: value[indices] for name, value in self._row_tensors().items()}
        )

    def micro_batches(self, count: int) -> list[GenerationBatch]:
        """`count` equal micro-batches of consecutive rows (`generate_and_score` shuffled them, as TRL)."""
        return [self.rows(part) for part in torch.arange(len(self), device=self.input_ids.device).chunk(count)]

    def state_dict(self) -> dict:
        """Plain tensors and numbers, for `torch.save` into a checkpoint."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    @classmethod
    def from_state_dict(cls, state: dict, device: torch.device) -> GenerationBatch:
        moved = {name: value.to(device) if torch.is_tensor(value) else value for name, value in state.items()}
        return cls(**moved)

    def _row_tensors(self) -> dict[str, torch.Tensor]:
        names = ("input_ids", "attention_mask", "completion_mask", "advantages", "old_per_token_logps",
                 "ref_per_token_logps")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}
