"""The GRPO policy loss: clipped (or CISPO) importance-weighted advantages plus a KL penalty, reduced per loss type.

`compute_loss` is TRL 1.16's `GRPOTrainer._compute_loss` (trl/trainer/grpo_trainer.py) as a pure function of
log-probabilities, restricted to the features our trainer uses: loss types grpo, bnpo, dr_grpo, dapo and cispo,
token or sequence (GSPO) importance sampling, and the k3 KL estimator, bias-corrected by the importance ratio as
TRL's default `use_bias_correction_kl`. Left out, as they are off by default in TRL: two-sided clipping
(`delta`), the entropy mask and bonus, off-policy masking and vLLM importance-sampling correction.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from runtime.grpo.errors import GRPOInputError
from runtime.grpo.loss_names import IMPORTANCE_SAMPLING_LEVELS, LOSS_TYPES


def compute_loss(
    per_token_logps: torch.Tensor,
    old_per_token_logps: torch.Tensor | None,
    ref_per_token_logps: torch.Tensor | None,
    advantages: torch.Tensor,
    completion_mask: torch.Tensor,
    *,
    loss_type: str,
    beta: float,
    epsilon_low: float,
    epsilon_high: float,
    max_completion_length: int,
    importance_sampling_level: str = "token",
    num_items_in_batch: torch.Tensor | float | None = None,
    use_bias_correction_kl: bool = True,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The GRPO loss of one batch of completions, and TRL's loss metrics.

    Args:
        per_token_logps: [B, T] log-probs of the completion tokens under the policy being trained (carries grad).
        old_per_token_logps: [B, T] log-probs under the policy that sampled them; None means
            `per_token_logps.detach()` (one optimization pass per generation batch), making every ratio 1.
        ref_per_token_logps: [B, T] log-probs under the reference model; may be None only when `beta == 0`.
        advantages: [B] one advantage per completion.
        completion_mask: [B, T] 1 for completion tokens that count in the loss, 0 for padding; any dtype.
        loss_type: one of `LOSS_TYPES`: grpo (mean of per-sequence token means), bnpo (token mean of this batch),
            dr_grpo (token sum / (B * max_completion_length)), dapo and cispo (token sum / num_items_in_batch).
        beta: KL coefficient; the per-token k3 estimator exp(ref - logp) - (ref - logp) - 1 is added to the loss,
            multiplied by the (differentiable) importance ratio when `use_bias_correction_kl` (TRL's default).
        epsilon_low, epsilon_high: the ratio is clipped to [1 - epsilon_low, 1 + epsilon_high]; for cispo the
            detached ratio is capped at `epsilon_high` itself (TRL's `torch.clamp(coef_1, max=epsilon_high)`).
        max_completion_length: the dr_grpo constant.
        importance_sampling_level: "token" (one ratio per token) or "sequence" (GSPO: exp of the masked mean
            log-ratio of each sequence, applied to all its tokens).
        num_items_in_batch: dapo/cispo normalizer. TRL uses the number of loss tokens in the whole generation
            batch, over all processes, divided by the processes and scaled to one accumulation step
            (`num_items_in_batch / num_processes * accumulation_steps / steps_per_generation`); in one process
            without accumulation that is `completion_mask.sum()`, the default here. Clamped to at least 1.
            With gradient accumulation, TRL passes the window's token count here for dapo/cispo and instead divides
            grpo/bnpo/dr_grpo losses by the accumulation steps; this function does neither division itself.

    Returns:
        `(loss, metrics)`: the scalar loss, and detached scalars named as TRL logs them: "kl" (masked mean of the
        per-token KL, only when beta != 0); for clipped loss types "clip_ratio/low_mean", "clip_ratio/high_mean",
        "clip_ratio/region_mean" (fraction of tokens, or of sequences at sequence level, where the clip bounds the
        objective), "clip_ratio/low_min" and "clip_ratio/high_max" (extremes of the per-sequence fractions);
        for cispo "cispo_clip_ratio" (fraction with ratio > epsilon_high and positive advantage).
    """
    _check_options(loss_type, importance_sampling_level, beta, ref_per_token_logps)
    _check_shapes(per_token_logps, advantages, {
        "old_per_token_logps": old_per_token_logps,
        "ref_per_token_logps": ref_per_token_logps,
        "completion_mask": completion_mask,
    })
    mask = completion_mask.to(per_token_logps.dtype)
    if old_per_token_logps is None:
        old_per_token_logps = per_token_logps.detach()
    if num_items_in_batch is None:
        num_items_in_batch = mask.sum()
    num_items_in_batch = torch.as_tensor(num_items_in_batch, dtype=mask.dtype, device=mask.device)
    advantages = advantages.unsqueeze(1)

    log_ratio = per_token_logps - old_per_token_logps
    if importance_sampling_level == "token":
        log_importance_weights = log_ratio
    else:
        log_importance_weights = ((log_ratio * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).unsqueeze(-1)
    # [B, T] at token level, [B, 1] at sequence level; broadcasting spreads a sequence's weight over its tokens.
    coef_1 = torch.exp(log_importance_weights)

    if loss_type == "cispo":
        capped_ratio = torch.clamp(coef_1, max=epsilon_high).detach()
        per_token_loss = -capped_ratio * advantages * per_token_logps
    else:
        coef_2 = torch.clamp(coef_1, 1 - epsilon_low, 1 + epsilon_high)
        per_token_loss = -torch.min(coef_1 * advantages, coef_2 * advantages)

    metrics: dict[str, torch.Tensor] = {}
    if beta != 0.0:
        per_token_kl = _k3_kl(per_token_logps, ref_per_token_logps)
        if use_bias_correction_kl:
            per_token_kl = per_token_kl * coef_1
        per_token_loss = per_token_loss + beta * per_token_kl
        metrics["kl"] = _masked_mean(per_token_kl, mask).detach()

    loss = _reduce(per_token_loss * mask, mask, loss_type, max_completion_length, num_items_in_batch)
    metrics.update(_clip_metrics(coef_1.detach(), advantages, mask, loss_type, epsilon_low, epsilon_high))
    return loss, metrics


def _reduce(
    masked_loss: torch.Tensor,
    mask: torch.Tensor,
    loss_type: str,
    max_completion_length: int,
    num_items_in_batch: torch.Tensor,
) -> torch.Tensor:
    """One number from the masked [B, T] token losses, with the normalizer of `loss_type` (TRL's)."""
    if loss_type == "grpo":
        return (masked_loss.sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    if loss_type == "bnpo":
        return masked_loss.sum() / mask.sum().clamp(min=1.0)
    if loss_type == "dr_grpo":
        return masked_loss.sum() / (mask.size(0) * max_completion_length)
    return masked_loss.sum() / num_items_in_batch.clamp(min=1.0)  # dapo and cispo


def _k3_kl(per_token_logps: torch.Tensor, ref_per_token_logps: torch.Tensor) -> torch.Tensor:
    """Schulman's k3 estimator of KL(policy || reference) per token; non-negative and unbiased."""
    ref_minus_policy = ref_per_token_logps - per_token_logps
    return torch.exp(ref_minus_policy) - ref_minus_policy - 1


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over the mask's tokens; a [B, 1] per-sequence tensor is averaged over its B sequences.

    Like TRL, the [B, 1] case is recognised by its shape, so token-level metrics of one-token completions are also
    averaged over sequences.
    """
    if values.shape[1] == 1:
        return values.sum() / max(values.shape[0], 1)
    return (values * mask).sum() / mask.sum().clamp(min=1.0)


def _per_sequence_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B] mean of each sequence's tokens; NaN for an empty sequence, which `_nan_extreme` skips (as TRL)."""
    if values.shape[1] == 1:
        return values.squeeze(1)
    return (values * mask).sum(-1) / mask.sum(-1)


def _nan_extreme(values: torch.Tensor, extreme: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    kept = values[~torch.isnan(values)]
    return (
        extreme(kept)
        if kept.numel()
        else torch.full((), float("nan"), dtype=values.dtype, device=values.device)
    )


def _clip_metrics(
    coef_1: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    loss_type: str,
    epsilon_low: float,
    epsilon_high: float,
) -> dict[str, torch.Tensor]:
    """How often clipping bounds the objective: below 1 - epsilon_low with A < 0, above 1 + epsilon_high with A > 0."""
    if loss_type == "cispo":
        is_capped = ((coef_1 > epsilon_high) & (advantages > 0)).to(mask.dtype)
        return {"cispo_clip_ratio": _masked_mean(is_capped, mask)}
    is_low_clipped = (coef_1 < 1 - epsilon_low) & (advantages < 0)
    is_high_clipped = (coef_1 > 1 + epsilon_high) & (advantages > 0)
    low, high = is_low_clipped.to(mask.dtype), is_high_clipped.to(mask.dtype)
    region = (is_low_clipped | is_high_clipped).to(mask.dtype)
    return {
        "clip_ratio/low_mean": _masked_mean(low, mask),
        "clip_ratio/high_mean": _masked_mean(high, mask),
        "clip_ratio/region_mean": _masked_mean(region, mask),
        "clip_ratio/low_min": _nan_extreme(_per_sequence_mean(low, mask), torch.min),
        "clip_ratio/high_max": _nan_extreme(_per_sequence_mean(high, mask), torch.max),
    }


def _check_options(
    loss_type: str, importance_sampling_level: str, beta: float, ref_per_token_logps: torch.Tensor | None
) -> None:
    """`GRPOInputError` unless the loss type and importance-sampling level are known and a KL penalty (beta) has the
    reference log-probs it needs."""
    if loss_type not in LOSS_TYPES:
        raise GRPOInputError(f"loss_type={loss_type!r} is unknown: use one of {', '.join(LOSS_TYPES)}.")
    if importance_sampling_level not in IMPORTANCE_SAMPLING_LEVELS:
        raise GRPOInputError(
            f"importance_sampling_level={importance_sampling_level!r} is unknown: use 'token' or 'sequence'."
        )
    if beta != 0.0 and ref_per_token_logps is None:
        raise GRPOInputError(
            f"beta={beta} needs ref_per_token_logps: pass the reference model's log-probs, or set beta=0."
        )


def _check_shapes(
    per_token_logps: torch.Tensor, advantages: torch.Tensor, same_shape_inputs: dict[str, torch.Tensor | None]
) -> None:
    """`GRPOInputError` unless per_token_logps is [B, T], advantages [B] and each given same-shape input [B, T]."""
    if per_token_logps.dim() != 2:
        raise GRPOInputError(
            f"per_token_logps must be [batch, tokens], got shape {tuple(per_token_logps.shape)}."
        )
    for name, tensor in same_shape_inputs.items():
        if tensor is not None and tensor.shape != per_token_logps.shape:
            raise GRPOInputError(
                f"{name} has shape {tuple(tensor.shape)} but per_token_logps has {tuple(per_token_logps.shape)}: "
                "pass one value per completion token of the same batch."
            )
    if advantages.shape != per_token_logps.shape[:1]:
        raise GRPOInputError(
            f"advantages must have shape [{per_token_logps.shape[0]}] (one per completion), "
            f"got {tuple(advantages.shape)}."
        )
