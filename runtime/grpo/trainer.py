"""`GRPOTrainer`: GRPO with LoRA on a rewritten gpt-oss module, step by step as TRL's GRPOTrainer.

Each optimizer step: `generate_and_score` (every `num_iterations` steps: sample `num_generations` completions per
prompt, score them, group-relative advantages), then `compute_loss` on `gradient_accumulation_steps` micro-batches
with a backward pass each, then `optimizer_step` (sum the LoRA gradients over processes, clip, AdamW, scheduler),
then `log`. A generation batch is the global batch (per_device_train_batch_size * gradient_accumulation_steps
completions per process), as TRL's default steps_per_generation = gradient_accumulation_steps makes it.
Under torchrun the processes share each step as `runtime.grpo.distributed` describes: N processes train as one
process with N times the gradient accumulation; only rank 0 writes logs and checkpoint files.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import torch
from transformers import get_scheduler

import runtime.grpo.loss as grpo_loss
from rewrite.model import RewrittenGptOss
from runtime.generate import GenerationEngine
from runtime.grpo.advantages import aggregate_rewards, compute_advantages
from runtime.grpo.checkpoints import TrainerState, load_checkpoint, save_checkpoint
from runtime.grpo.config import GRPOConfig
from runtime.grpo.distributed import Distributed
from runtime.grpo.errors import GRPOConfigError, GRPOInputError
from runtime.grpo.generation_batch import GenerationBatch
from runtime.grpo.logprobs import completion_logprobs
from runtime.grpo.memory import ActivationOffload, offload_embedding
from runtime.grpo.model_setup import attach_lora, load_policy, special_token_ids
from runtime.grpo.prompts import PROMPT_COLUMN, PromptDataset, round_prompt_indices, rounds_per_epoch
from runtime.grpo.rollout import gather_completions, sample_completions
from runtime.grpo.run_dir import prepare_output_dir, run_identity
from runtime.grpo.run_log import RunLog
from runtime.grpo.scoring import (
    RewardFunction,
    completions_as_given,
    reward_function_name,
    reward_metrics,
    score_completions,
)
from runtime.grpo.seeding import seed_everything, seeded_generator
from runtime.grpo.sharding import ShardedBase, load_sharded_policy

# Loss types whose value is a mean over one micro-batch: TRL divides them by the accumulation steps.
_MICRO_BATCH_MEAN_LOSSES = ("grpo", "bnpo", "dr_grpo")


class GRPOTrainer:
    """Trains LoRA adapters of `model` on `train_dataset` to maximise `reward_funcs`.

    Args:
        model: a checkpoint directory written by `rewrite build` (with the default passes, so that the linear
            modules LoRA attaches to exist), or a loaded `RewrittenGptOss`, which is then trained in place; with
            `fsdp`, also an `UnbuiltPreset` (`runtime.grpo.sharding`: the preset's shape, random weights drawn per
            shard, nothing built on disk).
        reward_funcs: one callable or a list, `(prompts, completions, completion_ids, **columns) -> list[float]`
            (see `runtime.grpo.scoring`); metrics are logged under each function's `__name__`.
        train_dataset: a `datasets.Dataset` or a list of dicts with a "prompt" column: token id lists, or
            strings / chat messages when `processing_class` is given; other columns are passed to the rewards.
        args: the configuration (TRL's field names); None uses `GRPOConfig()`.
        processing_class: a tokenizer, needed for text prompts; it also names the stop and pad tokens.
            Without one they come from the checkpoint directory's generation_config.json / config.json (from the
            preset's config for an `UnbuiltPreset`).
    """

    def __init__(
        self,
        model: str | Path | RewrittenGptOss,
        reward_funcs: RewardFunction | Sequence[RewardFunction],
        train_dataset: Any,
        args: GRPOConfig | None = None,
        processing_class: Any = None,
    ) -> None:
        self.args = args if args is not None else GRPOConfig()
        self.reward_funcs = list(reward_funcs) if isinstance(reward_funcs, Sequence) else [reward_funcs]
        _check_reward_funcs(self.reward_funcs, self.args.reward_weights)
        self.reward_names = [reward_function_name(func) for func in self.reward_funcs]
        self.processing_class = processing_class
        self.distributed = Distributed.from_environment(self.args.use_cpu)
        seed_everything(self.args.seed)  # before the adapters are initialised, as transformers' Trainer does
        self.sharded_base: ShardedBase | None = None
        if self.args.fsdp:
            self.model, model_source, self.sharded_base = load_sharded_policy(model, self.distributed)
        else:
            self.model, model_source = load_policy(model, self.args)
        self.stop_token_ids, self.pad_token_id = special_token_ids(model_source, processing_class)
        self.policy = attach_lora(self.model, self.args)
        if self.args.embedding_offload:
            offload_embedding(self.model)
        self.dataset = PromptDataset(
            train_dataset, processing_class, self.args.max_prompt_length, self.model.spec.vocab_size
        )
        lockstep_group = self.sharded_base.process_group if self.sharded_base is not None else None
        self.engine = GenerationEngine(self.model, compile=False if self.args.fsdp else None,
                                       lockstep_group=lockstep_group)
        rows_per_round = self.args.global_batch_size * self.distributed.world_size
        self.prompts_per_round = rows_per_round // self.args.num_generations
        self.max_steps = _total_steps(self.args, len(self.dataset), self.prompts_per_round)
        self.trainable_parameters = [parameter for parameter in self.model.parameters() if parameter.requires_grad]
        self.activation_offload = (
            ActivationOffload(list(self.model.parameters())) if self.args.activation_offloading else None
        )
        self.distributed.broadcast_parameters(self.trainable_parameters)
        self.optimizer = torch.optim.AdamW(
            self.trainable_parameters, lr=self.args.learning_rate, weight_decay=self.args.weight_decay
        )
        self.lr_scheduler = _scheduler(self.args, self.optimizer, self.max_steps)
        self.identity = run_identity(self.args, self.reward_names, self.model.manifest, self.distributed.world_size)
        self.global_step = 0
        self.generation_batch: GenerationBatch | None = None

    def train(
        self, resume_from_checkpoint: bool | str | Path | None = None, overwrite_output_dir: bool = False
    ) -> list[dict]:
        """Run to `max_steps`, checkpointing every `save_steps` and at the end; returns this call's log records.

        `resume_from_checkpoint=True` continues from the newest complete checkpoint in `output_dir` (a path: that
        checkpoint); the result equals an uninterrupted run's. `overwrite_output_dir` deletes another run's
        outputs instead of refusing to mix them (`GRPOOutputDirError`).
        """
        output_dir = Path(self.args.output_dir)
        checkpoint = None
        if self.distributed.is_main:
            checkpoint = prepare_output_dir(output_dir, self.identity, resume_from_checkpoint, overwrite_output_dir)
        checkpoint = self.distributed.broadcast_object(checkpoint)
        elapsed_before = 0.0
        if checkpoint is not None:
            state, self.generation_batch = load_checkpoint(
                checkpoint, self.policy, self.optimizer, self.lr_scheduler, self.distributed
            )
            self.global_step, elapsed_before = state.global_step, state.elapsed_seconds
        run_log = None
        if self.distributed.is_main:
            run_log = RunLog(output_dir, self.global_step, self.max_steps, self.args.logging_steps)
        started = time.perf_counter()
        records = []
        try:
            while self.global_step < self.max_steps:
                step_started = time.perf_counter()
                metrics = self.training_step()
                elapsed = elapsed_before + time.perf_counter() - started
                records.append(self.log(metrics, time.perf_counter() - step_started, elapsed, run_log))
                if self.global_step % self.args.save_steps == 0 or self.global_step == self.max_steps:
                    self.save_checkpoint(output_dir, elapsed)
        finally:
            if run_log is not None:
                run_log.close()
        return records

    def training_step(self) -> dict[str, float]:
        """One optimizer step (generating first when the current batch has had its `num_iterations` passes)."""
        step = self.global_step + 1
        if self.global_step % self.args.num_iterations == 0:  # otherwise the batch is reused (or was resumed)
            self.generation_batch = self.generate_and_score(step)
        self.model.train()
        totals: dict[str, float] = {}
        accumulation_steps = self.args.gradient_accumulation_steps
        all_micro_batches = self.generation_batch.micro_batches(accumulation_steps * self.distributed.world_size)
        with self._base_gathered():
            for micro_batch in self.distributed.own_micro_batches(all_micro_batches, accumulation_steps):
                loss, metrics = self.compute_loss(micro_batch)
                loss.backward()
                for name, value in {"loss": loss.detach(), **metrics}.items():
                    totals[name] = totals.get(name, 0.0) + value.item()
        totals = self.distributed.sum_values(totals)
        learning_rate = self.lr_scheduler.get_last_lr()[0]
        grad_norm = self.optimizer_step()
        means = {name: value / len(all_micro_batches) for name, value in totals.items() if name != "loss"}
        completion_mask = self.generation_batch.attention_mask[:, self.generation_batch.prompt_length :]
        return {
            **self.generation_batch.metrics,
            "loss": totals["loss"],  # the objective whose gradient this step applied (micro-batches summed)
            "kl": means.pop("kl", math.nan),  # NaN (null in log.jsonl) when beta == 0: no reference is computed
            **means,
            "grad_norm": grad_norm,
            "learning_rate": learning_rate,
            "completion_tokens": completion_mask.sum().item(),
        }

    @torch.no_grad()
    def generate_and_score(self, step: int) -> GenerationBatch:
        """Sample, reward and compute advantages for this round's prompts; old and reference log-probs as TRL.

        Old log-probs: with num_iterations == 1 none are stored and the loss uses the policy's own detached
        log-probs (every ratio is 1), as TRL; with more iterations they are recomputed here, without gradient,
        by the policy before any update on this batch (in eval mode, as the sampling: no LoRA dropout). The
        engine's sampling log-probs are not used (TRL uses them only for vLLM's importance-sampling correction).
        Reference log-probs (beta != 0): the same recomputation with the adapters disabled. The rows are shuffled,
        seeded by (seed, step), before those recomputations and before `training_step` cuts them into micro-batches
        (as TRL). Each process samples and scores its share of the prompts; the batch returned is the whole step's.
        """
        args = self.args
        indices = round_prompt_indices(args.seed, (step - 1) // args.num_iterations, self.prompts_per_round,
                                       len(self.dataset))
        first_index, indices = self.distributed.share(indices)
        rows = [self.dataset.row(index) for index in indices]
        self.model.eval()
        with self._base_gathered():
            completions = sample_completions(self.engine, [self.dataset.token_ids(index) for index in indices],
                                             args, step, self.stop_token_ids, self.pad_token_id, first_index)
        repeated = [row for row in rows for _ in range(args.num_generations)]
        prompts = [row[PROMPT_COLUMN] for row in repeated]
        columns = {name: [row[name] for row in repeated] for name in rows[0] if name != PROMPT_COLUMN}
        per_func_rewards = score_completions(
            self.reward_funcs, prompts,
            completions_as_given(completions.completion_ids, prompts[0], self.processing_class),
            completions.completion_ids, columns,
        )
        per_func_rewards = self.distributed.gather_rows(per_func_rewards)
        completions = gather_completions(completions, self.distributed, self.pad_token_id)
        rewards = aggregate_rewards(per_func_rewards, args.reward_weights)
        completion_mask = completions.completion_mask
        if args.mask_truncated_completions:
            completion_mask = completion_mask * ~completions.is_truncated[:, None]
        batch = GenerationBatch(
            input_ids=completions.input_ids,
            attention_mask=completions.attention_mask,
            prompt_length=completions.prompt_length,
            completion_mask=completion_mask,
            advantages=compute_advantages(rewards, args.num_generations, args.scale_rewards).to(self.model.device),
            old_per_token_logps=None,
            ref_per_token_logps=None,
            num_items_in_batch=int(completion_mask.sum()),
            metrics={
                **reward_metrics(per_func_rewards, rewards, self.reward_names, args.num_generations),
                "completion_length": completions.completion_mask.sum(1).float().mean().item(),
            },
        )
        batch = batch.rows(torch.randperm(len(batch), generator=seeded_generator("cpu", args.seed, "shuffle", step)))
        if args.num_iterations > 1:
            batch.old_per_token_logps = self._logprobs_without_grad(batch)
        if args.beta != 0.0:
            with self.policy.disable_adapter():
                batch.ref_per_token_logps = self._logprobs_without_grad(batch)
        return batch

    def compute_loss(self, micro_batch: GenerationBatch) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The GRPO loss of one micro-batch (`runtime.grpo.loss.compute_loss`), scaled for accumulation as TRL:
        grpo, bnpo and dr_grpo divided by the micro-batches of the step (accumulation steps times processes);
        dapo and cispo normalised by the loss tokens of the whole generation batch. So the step's objective is the
        sum of its micro-batches' losses over all processes, and the gradients are summed."""
        args = self.args
        per_token_logps = completion_logprobs(
            self.model, micro_batch.input_ids, micro_batch.attention_mask, micro_batch.prompt_length,
            temperature=args.temperature, chunk_size=args.logprob_chunk_size,
            gradient_checkpointing=args.gradient_checkpointing, activation_offload=self.activation_offload,
        )
        loss, metrics = grpo_loss.compute_loss(
            per_token_logps, micro_batch.old_per_token_logps, micro_batch.ref_per_token_logps,
            micro_batch.advantages, micro_batch.completion_mask,
            loss_type=args.loss_type, beta=args.beta, epsilon_low=args.epsilon, epsilon_high=args.epsilon_high,
            max_completion_length=args.max_completion_length,
            importance_sampling_level=args.importance_sampling_level,
            num_items_in_batch=micro_batch.num_items_in_batch,
        )
        if args.loss_type in _MICRO_BATCH_MEAN_LOSSES:
            loss = loss / (args.gradient_accumulation_steps * self.distributed.world_size)
        return loss, metrics

    def optimizer_step(self) -> float:
        """Sum the gradients over the processes, clip their norm (when max_grad_norm > 0), step AdamW and the
        scheduler; returns the norm."""
        self.distributed.sum_gradients(self.trainable_parameters)
        max_norm = self.args.max_grad_norm if self.args.max_grad_norm > 0 else math.inf
        grad_norm = torch.nn.utils.clip_grad_norm_(self.trainable_parameters, max_norm).item()
        self.optimizer.step()
        self.lr_scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.global_step += 1
        return grad_norm

    def log(self, metrics: dict[str, float], step_seconds: float, elapsed: float, run_log: RunLog | None) -> dict:
        """This step's record, written to `run_log` (rank 0's; None elsewhere): the metrics plus step,
        tokens_per_second (completion tokens of all processes per second of the step, generation included),
        peak_memory_bytes (this process's) and elapsed_seconds."""
        record = {
            "step": self.global_step,
            **metrics,
            "tokens_per_second": metrics["completion_tokens"] / step_seconds,
            "peak_memory_bytes": _peak_memory_bytes(self.model.device),
            "elapsed_seconds": elapsed,
        }
        if run_log is not None:
            run_log.write(record)
        return record

    def save_checkpoint(self, output_dir: Path, elapsed: float) -> Path:
        """OUT/checkpoint-STEP, with the generation batch when the next step trains on it again."""
        reused = self.global_step % self.args.num_iterations != 0
        return save_checkpoint(
            output_dir, self.policy, self.optimizer, self.lr_scheduler,
            TrainerState(self.global_step, elapsed, self.identity), self.args,
            self.generation_batch if reused else None, self.distributed,
        )

    def _logprobs_without_grad(self, batch: GenerationBatch) -> torch.Tensor:
        """[B, C] log-probs in eval mode, per_device_train_batch_size rows at a time; each process computes those
        of the micro-batches it trains on."""
        micro_batches = batch.micro_batches(self.args.gradient_accumulation_steps * self.distributed.world_size)
        own = self.distributed.own_micro_batches(micro_batches, self.args.gradient_accumulation_steps)
        with self._base_gathered():
            logps = torch.cat([
                completion_logprobs(self.model, part.input_ids, part.attention_mask, part.prompt_length,
                                    temperature=self.args.temperature, chunk_size=self.args.logprob_chunk_size)
                for part in own
            ])
        return self.distributed.gather_rows(logps)

    def _base_gathered(self) -> AbstractContextManager:
        """Within the block a sharded base model (`--fsdp`) is gathered as a phase's model calls need it
        (`runtime.grpo.sharding.ShardedBase.gathered`); without --fsdp a no-op."""
        return nullcontext() if self.sharded_base is None else self.sharded_base.gathered()


def _check_reward_funcs(reward_funcs: list[Callable], reward_weights: list[float] | None) -> None:
    """Refuse unusable reward functions now rather than at the first step."""
    if not reward_funcs or not all(callable(func) for func in reward_funcs):
        raise GRPOInputError("reward_funcs must be a callable or a non-empty list of callables.")
    aggregate_rewards(torch.zeros(1, len(reward_funcs)), reward_weights)  # raises when the weights do not fit


def _total_steps(args: GRPOConfig, num_prompts: int, prompts_per_round: int) -> int:
    """max_steps, or num_train_epochs over the dataset, each generation round giving num_iterations steps."""
    if args.max_steps > 0:
        return args.max_steps
    steps_per_epoch = rounds_per_epoch(num_prompts, prompts_per_round) * args.num_iterations
    return max(1, math.ceil(args.num_train_epochs * steps_per_epoch))


def _scheduler(args: GRPOConfig, optimizer: torch.optim.Optimizer, max_steps: int):
    try:
        return get_scheduler(args.lr_scheduler_type, optimizer,
                             num_warmup_steps=math.ceil(args.warmup_ratio * max_steps), num_training_steps=max_steps)
    except ValueError as error:
        raise GRPOConfigError(f"lr_scheduler_type={args.lr_scheduler_type!r} (--lr-scheduler-type): {error}") from error


def _peak_memory_bytes(device: torch.device) -> int:
    """Peak CUDA memory allocated on `device`, or on CPU the process's peak resident set size."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports kilobytes
