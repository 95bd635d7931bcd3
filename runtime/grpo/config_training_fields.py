"""The `GRPOConfig` fields that TRL inherits from transformers' `TrainingArguments`: loop, optimizer, schedule,
precision, checkpoints, logging and evaluation.

Names, defaults and meanings are transformers 5's as TRL 1.16 sets them (`trl/trainer/base_config.py`), except
where a help text says otherwise; `warmup_ratio` and `logging_dir` are transformers 4's, which TRL 1.16 also runs
on. `runtime.grpo.config` combines these fields with the GRPO ones; `runtime.grpo.config_checks` checks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runtime.grpo.config_option import option

OPTIMIZERS = ("adamw_torch", "adamw_torch_fused", "adamw_8bit", "adamw_bnb_8bit", "paged_adamw_8bit")
SAVE_STRATEGIES = ("steps", "epoch", "no")
EVAL_STRATEGIES = ("no", "steps", "epoch")


@dataclass
class TrainingFields:
    """TrainingArguments' fields as GRPO uses them; every field has `metadata["help"]`."""

    output_dir: str = option(
        "trainer_output",
        "Directory where checkpoints and logs are written (None: trainer_output, as transformers).",
    )
    learning_rate: float = option(1e-6, "The initial (peak) learning rate of the optimizer.")
    per_device_train_batch_size: int = option(8, "Number of completions per device in one forward/backward pass.")
    gradient_accumulation_steps: int = option(
        1,
        "Number of forward/backward passes accumulated before one optimizer step. The global batch "
        "(per_device_train_batch_size * gradient_accumulation_steps) is also the generation batch, unless "
        "generation_batch_size or steps_per_generation say otherwise.",
    )
    num_train_epochs: float = option(
        3.0,
        "Number of passes over the prompt dataset; ignored when max_steps is positive.",
    )
    max_steps: int = option(-1, "If positive, the total number of optimizer steps; overrides num_train_epochs.")
    lr_scheduler_type: str = option(
        "linear",
        "Learning-rate schedule, a name transformers.get_scheduler accepts (linear, cosine, constant, "
        "constant_with_warmup, cosine_with_min_lr, ...; not reduce_lr_on_plateau or greedy, which need an "
        "evaluation loss); checked when the trainer builds the scheduler.",
    )
    lr_scheduler_kwargs: dict[str, Any] | None = option(
        None,
        'Extra keyword arguments of the schedule, e.g. {"num_cycles": 1} for cosine_with_restarts or '
        '{"min_lr_rate": 0.1} for cosine_with_min_lr; a dict, or its JSON text.',
    )
    warmup_steps: float = option(
        0,
        "Linear warmup from 0 to learning_rate: a number of optimizer steps, or a float in [0, 1) for that fraction "
        "of the total steps (rounded up), as transformers 5.",
    )
    warmup_ratio: float = option(
        0.0,
        "transformers 4's fraction of the total steps used for the warmup, in [0, 1]; transformers 5 writes it as "
        "warmup_steps < 1. Give one of the two.",
    )
    optim: str = option(
        "adamw_torch_fused",
        "The optimizer, as transformers names it: adamw_torch (torch's AdamW), adamw_torch_fused (its fused kernel, "
        "the default), adamw_8bit (= adamw_bnb_8bit) and paged_adamw_8bit (bitsandbytes' 8-bit AdamW, paged on "
        "CUDA). Each uses learning_rate, adam_beta1, adam_beta2, adam_epsilon and weight_decay.",
        choices=OPTIMIZERS,
    )
    weight_decay: float = option(0.0, "Decoupled weight decay of AdamW, applied to every trainable (LoRA) parameter.")
    adam_beta1: float = option(0.9, "AdamW's beta1 (first-moment decay), in [0, 1).")
    adam_beta2: float = option(0.999, "AdamW's beta2 (second-moment decay), in [0, 1).")
    adam_epsilon: float = option(1e-8, "AdamW's epsilon, added to the denominator.")
    max_grad_norm: float = option(1.0, "Maximum gradient norm for gradient clipping; 0 disables clipping.")
    bf16: bool | None = option(
        None,
        "Precision of the model's computation. The base model computes in the dtype the checkpoint was built in "
        "(rewrite build --dtype; bfloat16 on CUDA by default) and is never autocast; the LoRA adapters are float32. "
        "None (the default): the checkpoint's dtype (TRL's None means bfloat16 mixed precision, which a bfloat16 "
        "build gives). True: the trainer requires a bfloat16 model and refuses another. False: the checkpoint's "
        "dtype.",
    )
    fp16: bool = option(
        False,
        "float16 mixed precision (with loss scaling) is not supported: gpt-oss trains in bfloat16. Only False is "
        "accepted; build the checkpoint with --dtype bfloat16 instead.",
    )
    gradient_checkpointing: bool = option(
        True,
        "Recompute activations in the backward pass to save memory, at some speed cost: layer by layer when the "
        "checkpoint has layer modules (the layer_modules pass), else the whole forward at once.",
    )
    seed: int = option(42, "Random seed set at the beginning of training.")
    use_cpu: bool = option(
        False,
        "Train on the CPU even when CUDA is available (used when the model is given as a directory).",
    )
    fsdp: bool = option(
        False,
        "Shard the frozen base model across the processes with FSDP2 (under torchrun), built on the meta device and "
        "loaded shard by shard from the checkpoint directory (for a preset without one: random weights drawn shard "
        "by shard). Every phase, generation included, gathers one layer per call: use it only for a model that does "
        "not fit one GPU. Unlike TRL's fsdp option (strings of FSDP1 options) it is a switch: the LoRA adapters "
        "stay whole on every process.",
    )

    # Logging and checkpoints
    logging_steps: float = option(
        10,
        "Print metrics every this many optimizer steps (log.jsonl gets every step), or a float in (0, 1) for that "
        "fraction of the total steps (rounded up).",
    )
    report_to: str | list[str] = option(
        "none",
        "Where metrics are also reported: tensorboard, wandb (when installed), all (every one of those installed) "
        "or none. A name or a list of names.",
    )
    resume_from_checkpoint: str | None = option(
        None,
        "A checkpoint for the script to pass to trainer.train(resume_from_checkpoint=...), as transformers' field: "
        "the trainer itself does not read it (rewrite train: --resume).",
    )
    run_name: str | None = option(None, "A name for the run, given to wandb; None: the output directory's name.")
    logging_dir: str | None = option(None, "transformers 4's TensorBoard directory; None: OUTPUT_DIR/tensorboard.")
    save_strategy: str = option(
        "steps",
        "When checkpoints are saved: 'steps' every save_steps steps and after the last, 'epoch' after each pass "
        "over the prompts and after the last step, 'no' never (trainer.save_model still writes the adapter). "
        "transformers' 'best' needs an evaluation loss GRPO does not have.",
        choices=SAVE_STRATEGIES,
    )
    save_steps: float = option(
        500,
        "With save_strategy 'steps': save a checkpoint every this many optimizer steps, or a float in (0, 1) for "
        "that fraction of the total steps (rounded up).",
    )
    save_total_limit: int | None = option(
        None,
        "Keep at most this many checkpoints, deleting the oldest; None keeps all.",
    )

    # Evaluation
    eval_strategy: str = option(
        "no",
        "'steps': sample completions of the eval_dataset's prompts every eval_steps steps and log their mean "
        "rewards; 'epoch': at the end of every pass over the training prompts; 'no': never.",
        choices=EVAL_STRATEGIES,
    )
    eval_steps: float | None = option(
        None,
        "With eval_strategy 'steps': evaluate every this many optimizer steps, or a float in (0, 1) for that "
        "fraction of the total steps; None: logging_steps, as transformers.",
    )
    per_device_eval_batch_size: int = option(
        8,
        "Completions per device in one evaluation generation batch; a multiple of num_generations_eval (or "
        "num_generations), since each process evaluates whole groups.",
    )
