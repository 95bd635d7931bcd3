"""The optimizer and learning-rate schedule of a run, built from `GRPOConfig` as transformers' Trainer builds them.

`optim` names the optimizer as transformers' `OptimizerNames` does: adamw_torch and adamw_torch_fused are
`torch.optim.AdamW` (foreach or fused kernels), adamw_8bit / adamw_bnb_8bit and paged_adamw_8bit are
bitsandbytes' `AdamW` with 8-bit states (paged: its states can be evicted to CPU memory under pressure; on the
CPU bitsandbytes runs it unpaged, with a warning). Each takes learning_rate, (adam_beta1, adam_beta2),
adam_epsilon and weight_decay; the weight decay applies to every parameter given (the trainer gives LoRA adapters,
which transformers would decay too: it exempts only biases and norm weights).

The schedule is `transformers.get_scheduler(lr_scheduler_type, ...)` with lr_scheduler_kwargs, over `max_steps`
optimizer steps, warming up for warmup_steps (a count, or a fraction of max_steps when < 1, as transformers 5) or
warmup_ratio (transformers 4's fraction).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from runtime.grpo.config import GRPOConfig
from runtime.grpo.config_checks import interval_in_steps
from runtime.grpo.errors import GRPOConfigError

_BITSANDBYTES_PAGED = {"adamw_8bit": False, "adamw_bnb_8bit": False, "paged_adamw_8bit": True}


def build_optimizer(args: GRPOConfig, parameters: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
    """The optimizer `args.optim` over `parameters`, with args' learning rate, betas, epsilon and weight decay.

    Raises `GRPOConfigError` for an 8-bit optimizer without bitsandbytes installed.
    """
    settings = {
        "lr": args.learning_rate,
        "betas": (args.adam_beta1, args.adam_beta2),
        "eps": args.adam_epsilon,
        "weight_decay": args.weight_decay,
    }
    if args.optim in _BITSANDBYTES_PAGED:
        try:
            import bitsandbytes.optim
        except ImportError as error:
            raise GRPOConfigError(
                f"optim={args.optim!r} (--optim) needs bitsandbytes: pip install bitsandbytes (the [nf4] extra), or "
                "use adamw_torch_fused."
            ) from error
        return bitsandbytes.optim.AdamW(
            parameters, **settings, optim_bits=8, is_paged=_BITSANDBYTES_PAGED[args.optim]
        )
    return torch.optim.AdamW(parameters, **settings, fused=args.optim == "adamw_torch_fused")


def warmup_steps(args: GRPOConfig, max_steps: int) -> int:
    """Warmup steps of a run of `max_steps`: warmup_steps (a fraction of max_steps when < 1), or warmup_ratio."""
    if args.warmup_ratio:
        return math.ceil(args.warmup_ratio * max_steps)
    return interval_in_steps(args.warmup_steps, max_steps)


def build_scheduler(
    args: GRPOConfig, optimizer: torch.optim.Optimizer, max_steps: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """transformers' `lr_scheduler_type` schedule of `optimizer` over `max_steps` steps, with `warmup_steps(...)`
    and lr_scheduler_kwargs; raises `GRPOConfigError` for a name or keyword transformers does not accept."""
    from transformers import get_scheduler

    try:
        return get_scheduler(
            args.lr_scheduler_type, optimizer, num_warmup_steps=warmup_steps(args, max_steps),
            num_training_steps=max_steps, scheduler_specific_kwargs=args.lr_scheduler_kwargs,
        )
    except (ValueError, TypeError) as error:
        given = f"lr_scheduler_type={args.lr_scheduler_type!r} (--lr-scheduler-type)"
        if args.lr_scheduler_kwargs:
            given += f" with lr_scheduler_kwargs={args.lr_scheduler_kwargs!r} (--lr-scheduler-kwargs)"
        raise GRPOConfigError(f"{given}: {error}") from error
