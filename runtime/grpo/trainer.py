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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

import runtime.grpo.loss as grpo_loss
from rewrite.model import RewrittenGptOss
from rewrite.seeds import seeded_generator
from rewrite.tokenizer_files import load_tokenizer
from runtime.generate import GenerationEngine
from runtime.grpo.advantages import aggregate_rewards, compute_advantages
from runtime.grpo.checkpoints import TrainerState, load_checkpoint, save_checkpoint, save_model_files
from runtime.grpo.completion_log import CompletionLog
from runtime.grpo.config import GRPOConfig
from runtime.grpo.config_checks import interval_in_steps
from runtime.grpo.distributed import Distributed
from runtime.grpo.errors import GRPODatasetError, GRPOInterrupted
from runtime.grpo.generation_batch import GenerationBatch
from runtime.grpo.logprobs import completion_logprobs
from runtime.grpo.memory import ActivationOffload, offload_embedding
from runtime.grpo.model_setup import attach_lora, load_policy, special_token_ids
from runtime.grpo.optimizers import build_optimizer, build_scheduler
from runtime.grpo.prompts import PromptDataset, needs_tokenizer, round_prompt_indices, rounds_per_epoch
from runtime.grpo.run_dir import prepare_output_dir, run_identity
from runtime.grpo.run_log import RunLog
from runtime.grpo.scored_rollouts import ScoredRollouts
from runtime.grpo.scoring import RewardFunction, reward_function_name, reward_metrics
from runtime.grpo.seeding import seed_everything
from runtime.grpo.sharding import ShardedBase, load_sharded_policy
from runtime.grpo.trainer_events import TrainingEvents
from runtime.grpo.trainer_setup import (
    checked_args,
    checked_train_dataset,
    lora_config_for,
    resolved_reward_funcs,
    steps_per_round,
    total_steps,
)
from runtime.grpo.trl_trainer_surface import TrainerSurface, TrainResult, refuse_unsupported_arguments

# Loss types whose value is a mean over one micro-batch: TRL divides them by the accumulation steps.
_MICRO_BATCH_MEAN_LOSSES = ("grpo", "bnpo", "dr_grpo")


class GRPOTrainer(TrainerSurface):
    """Trains LoRA adapters of `model` on `train_dataset` to maximise `reward_funcs`; TRL's argument order.

    Args:
        model: a checkpoint directory written by `rewrite build`, a transformers gpt-oss checkpoint directory or a
            `GptOssForCausalLM` (rewritten in memory with the default passes), or a loaded `RewrittenGptOss` (then
            trained in place); with `fsdp`, also an `UnbuiltPreset` (`runtime.grpo.sharding`).
        reward_funcs: a callable, a "module:function" string, or a list of them (`runtime.grpo.scoring` says what
            they receive); metrics are logged under each function's `__name__`.
        args: the configuration (TRL's field names); None uses `GRPOConfig()`.
        train_dataset: a `datasets.Dataset` or a list of dicts with a "prompt" column: token id lists, or strings /
            chat messages when `processing_class` is given; other columns are passed to the rewards (and to the chat
            template, for the columns it names, e.g. reasoning_effort).
        eval_dataset: prompts whose mean rewards are logged every `eval_steps` when `eval_strategy="steps"`, after
            every epoch with "epoch"; a dict of them is evaluated per name (`eval_NAME_reward`, ...) as transformers.
        processing_class: a tokenizer, needed for text prompts.
        reward_processing_classes: ignored, as TRL does for reward functions (one per function when a list).
        callbacks: transformers `TrainerCallback`s (`runtime.grpo.trainer_events`).
        optimizers: (optimizer, lr_scheduler) to use instead of those `optim` and `lr_scheduler_type` build; the
            optimizer must hold the trainable (adapter) parameters.
        quantization_config, tools, rollout_func, environment_factory: TRL's; only None (each refused with what
            to do instead: `runtime.grpo.trl_trainer_surface`).
        peft_config: a peft `LoraConfig`; None builds one from the config's lora_* fields.

    TRL / transformers `Trainer` attributes that it does not have (`accelerator`, `push_to_hub`, ...) raise
    `GRPOUnsupportedError` saying what to use instead.
    """

    def __init__(
        self,
        model: str | Path | RewrittenGptOss | Any,
        reward_funcs: RewardFunction | str | Sequence[RewardFunction | str],
        args: GRPOConfig | None = None,
        train_dataset: Any = None,
        eval_dataset: Any = None,
        processing_class: Any = None,
        reward_processing_classes: Any = None,
        callbacks: Sequence[Any] | None = None,
        optimizers: tuple[Any, Any] = (None, None),
        quantization_config: Any = None,
        peft_config: Any = None,
        tools: Any = None,
        rollout_func: Any = None,
        environment_factory: Any = None,
    ) -> None:
        refuse_unsupported_arguments(quantization_config=quantization_config, tools=tools, rollout_func=rollout_func,
                                     environment_factory=environment_factory)
        self.args, lora_config = lora_config_for(checked_args(args), peft_config)
        self.reward_funcs = resolved_reward_funcs(reward_funcs, self.args.reward_weights, reward_processing_classes)
        self.reward_names = [reward_function_name(func) for func in self.reward_funcs]
        self.processing_class = processing_class
        self.distributed = Distributed.from_environment(self.args.use_cpu)
        seed_everything(self.args.seed)  # before the adapters are initialised, as transformers' Trainer does
        self.sharded_base: ShardedBase | None = None
        if self.args.fsdp:
            self.rewritten, model_source, self.sharded_base = load_sharded_policy(model, self.distributed)
        else:
            self.rewritten, model_source = load_policy(model, self.args)
        if processing_class is None and isinstance(model_source, Path) and needs_tokenizer(train_dataset):
            processing_class = load_tokenizer(model_source)  # as TRL, the model's own tokenizer by default
            self.processing_class = processing_class
        self.stop_token_ids, self.pad_token_id = special_token_ids(model_source, processing_class)
        self.args.check_model_dtype(self.rewritten.spec.dtype)
        self.policy = attach_lora(self.rewritten, self.args, lora_config)
        if self.args.embedding_offload:
            offload_embedding(self.rewritten)
        self.prompt_options = dict(
            processing_class=processing_class, max_prompt_length=self.args.max_prompt_length,
            vocab_size=self.rewritten.spec.vocab_size, chat_template_kwargs=self.args.chat_template_kwargs,
            context_length=self.rewritten.spec.max_position_embeddings,
            max_completion_length=self.args.max_completion_length,
        )
        self.train_dataset = checked_train_dataset(train_dataset)
        self.dataset = PromptDataset(self.train_dataset, **self.prompt_options)
        self.eval_dataset = None if eval_dataset is None else self._eval_prompts(eval_dataset)
        lockstep_group = self.sharded_base.process_group if self.sharded_base is not None else None
        self.engine = GenerationEngine(self.rewritten, compile=False if self.args.fsdp else None,
                                       lockstep_group=lockstep_group)
        self.steps_per_generation = self.args.resolved_steps_per_generation(self.distributed.world_size)
        self.steps_per_round = steps_per_round(self.args, self.steps_per_generation)
        rows_per_round = self.args.per_device_train_batch_size * self.steps_per_generation
        self.prompts_per_round = rows_per_round * self.distributed.world_size // self.args.num_generations
        self.max_steps = total_steps(self.args, len(self.dataset), self.prompts_per_round, self.steps_per_round)
        self.steps_per_epoch = rounds_per_epoch(len(self.dataset), self.prompts_per_round) * self.steps_per_round
        self.logging_steps, self.save_steps, self.eval_steps = (
            interval_in_steps(value, self.max_steps) if value else 0
            for value in (self.args.logging_steps, self.args.save_steps, self.args.eval_steps)
        )
        self.trainable_parameters = [parameter for parameter in self.rewritten.parameters() if parameter.requires_grad]
        self.activation_offload = (
            ActivationOffload(list(self.rewritten.parameters())) if self.args.activation_offloading else None
        )
        self.distributed.broadcast_parameters(self.trainable_parameters)
        optimizer, lr_scheduler = optimizers
        self.optimizer = optimizer if optimizer is not None else build_optimizer(self.args, self.trainable_parameters)
        self.lr_scheduler = (lr_scheduler if lr_scheduler is not None
                             else build_scheduler(self.args, self.optimizer, self.max_steps))
        self.identity = run_identity(self.args, self.reward_names, self.rewritten.manifest, self.distributed.world_size)
        self.global_step = 0
        self.generation_batch: GenerationBatch | None = None
        self.events = TrainingEvents(self.args, callbacks, self.max_steps, self.distributed.is_main,
                                     model=self.policy, processing_class=processing_class,
                                     optimizer=self.optimizer, lr_scheduler=self.lr_scheduler)
        self.completion_log: CompletionLog | None = None
        self.rollouts = ScoredRollouts(self.engine, self.reward_funcs, self.reward_names, processing_class,
                                       self.stop_token_ids, self.pad_token_id, self.args, self.distributed,
                                       self.state)
        self.events.fire("on_init_end")

    def train(
        self, resume_from_checkpoint: bool | str | Path | None = None, overwrite_output_dir: bool = False
    ) -> TrainResult:
        """Run to `max_steps`, checkpointing every `save_steps` and at the end; returns this call's log records, a
        list that also has `TrainOutput`'s global_step, training_loss and metrics.

        `resume_from_checkpoint=True` continues from the newest complete checkpoint in `output_dir` (a path: that
        checkpoint); the result equals an uninterrupted run's, and a larger `max_steps` continues the run.
        `overwrite_output_dir` deletes another run's outputs instead of refusing to mix them (`GRPOOutputDirError`).
        Ctrl-C saves the last completed step and raises `GRPOInterrupted`, which says how to resume.
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
        self.state.global_step = self.global_step
        run_log = None
        if self.distributed.is_main:
            run_log = RunLog(output_dir, self.global_step, self.max_steps, self.args, self.logging_steps)
            self.completion_log = run_log.completion_log
        started = time.perf_counter()
        records = []
        self.events.fire("on_train_begin")
        try:
            while self.global_step < self.max_steps:
                records.append(self._train_one_step(output_dir, elapsed_before, started, run_log))
                if self.events.control.should_training_stop:
                    break
        except KeyboardInterrupt:
            raise self._interrupted(output_dir, elapsed_before + time.perf_counter() - started) from None
        finally:
            if run_log is not None:
                run_log.close()
        result = TrainResult(records, self.global_step, time.perf_counter() - started, self.state.epoch)
        summary = {**result.metrics, "step": self.global_step}  # transformers' last log_history entry
        self.state.log_history.append(summary)
        self.events.fire("on_log", logs=summary)
        self.events.fire("on_train_end")
        return result

    def _train_one_step(self, output_dir: Path, elapsed_before: float, started: float, run_log: RunLog | None) -> dict:
        """One optimizer step with its events, log record, evaluation and checkpoint."""
        self.events.fire("on_step_begin")
        step_started = time.perf_counter()
        metrics = self.training_step()
        elapsed = elapsed_before + time.perf_counter() - started
        self.state.global_step = self.global_step
        self.state.epoch = self.global_step / self.steps_per_epoch  # passes over the prompts, as transformers
        control = self.events.fire("on_step_end")  # then log, evaluate, save, as transformers' Trainer
        record = self.log(metrics, time.perf_counter() - step_started, elapsed, run_log)
        if self.eval_dataset is not None and self._ends_interval(self.args.eval_strategy, self.eval_steps):
            self.evaluate()
        due = self._ends_interval(self.args.save_strategy, self.save_steps)
        last = self.global_step == self.max_steps or control.should_training_stop
        if due or control.should_save or (last and self.args.save_strategy != "no"):
            self.save_checkpoint(output_dir, elapsed)
            control.should_save = False
        return record

    def _ends_interval(self, strategy: str, every: int) -> bool:
        """Whether this step ends an interval of an eval or save `strategy`, as transformers: "steps", every
        `every` steps; "epoch", each pass over the training prompts; anything else ("no"), never."""
        if strategy == "steps":
            return self.global_step % max(1, every) == 0
        return strategy == "epoch" and self.global_step % self.steps_per_epoch == 0

    def _interrupted(self, output_dir: Path, elapsed: float) -> GRPOInterrupted:
        """Save the last completed step (if not saved yet) after Ctrl-C; the error says how to resume."""
        saved = output_dir / f"checkpoint-{self.global_step}"
        if self.global_step > 0 and not saved.is_dir():
            self.save_checkpoint(output_dir, elapsed)
        where = f"{saved} holds it" if self.global_step > 0 else "nothing was saved"
        return GRPOInterrupted(
            f"stopped at step {self.global_step} of {self.max_steps} ({where}); resume with "
            f"`--resume` (rewrite train) or trainer.train(resume_from_checkpoint=True)."
        )

    def training_step(self) -> dict[str, float]:
        """One optimizer step (generating first when the current batch has been trained on `steps_per_round`
        times): this step's window of `gradient_accumulation_steps` micro-batches per process."""
        position = self.global_step % self.steps_per_round
        if position == 0 or self.generation_batch is None:
            self.generation_batch = self.generate_and_score(self.global_step + 1)
        self.rewritten.train()
        totals: dict[str, float] = {}
        accumulation_steps = self.args.gradient_accumulation_steps
        windows = self.steps_per_generation // accumulation_steps
        window_micro_batches = accumulation_steps * self.distributed.world_size
        all_micro_batches = self.generation_batch.micro_batches(window_micro_batches * windows)
        window = position % windows
        micro_batches = all_micro_batches[window * window_micro_batches : (window + 1) * window_micro_batches]
        for micro_batch in self.distributed.own_micro_batches(micro_batches, accumulation_steps):
            loss, metrics = self.compute_loss(micro_batch, windows)
            loss.backward()
            for name, value in {"loss": loss.detach(), **metrics}.items():
                totals[name] = totals.get(name, 0.0) + value.item()
        totals = self.distributed.sum_values(totals)
        learning_rate = self.lr_scheduler.get_last_lr()[0]
        grad_norm = self.optimizer_step()
        means = {name: value / len(micro_batches) for name, value in totals.items() if name != "loss"}
        completion_mask = self.generation_batch.attention_mask[:, self.generation_batch.prompt_length :]
        return {
            **self.generation_batch.metrics,
            "loss": totals["loss"],  # the objective whose gradient this step applied (micro-batches summed)
            "kl": means.pop("kl", math.nan),  # NaN (null in log.jsonl) when beta == 0: no reference is computed
            **means,
            "grad_norm": grad_norm,
            "learning_rate": learning_rate,
            "completion_tokens": completion_mask.sum().item() / windows,
        }

    @torch.no_grad()
    def generate_and_score(self, step: int) -> GenerationBatch:
        """Sample, reward and compute advantages for this round's prompts; old and reference log-probs as TRL.

        Old log-probs: when the batch is trained on once per window (num_iterations == 1) none are stored and the
        loss uses the policy's own detached log-probs (every ratio is 1), as TRL; otherwise they are recomputed
        here, without gradient, by the policy before any update on this batch (in eval mode, as the sampling: no
        LoRA dropout). Reference log-probs (beta != 0): the same recomputation with the adapters disabled. The rows
        are shuffled, seeded by (seed, step), before those recomputations and before `training_step` cuts them
        into micro-batches (as TRL). Each process samples and scores its share of the prompts; the batch returned
        is the whole round's.
        """
        args = self.args
        indices = round_prompt_indices(args.seed, (step - 1) // self.steps_per_round, self.prompts_per_round,
                                       len(self.dataset))
        completions, per_func_rewards, metrics = self.rollouts(self.dataset, indices, step, args.num_generations,
                                                               self.completion_log)
        rewards = aggregate_rewards(per_func_rewards, args.reward_weights)
        completion_mask = completions.completion_mask
        if args.mask_truncated_completions:
            completion_mask = completion_mask * ~completions.is_truncated[:, None]
        batch = GenerationBatch(
            input_ids=completions.input_ids,
            attention_mask=completions.attention_mask,
            prompt_length=completions.prompt_length,
            completion_mask=completion_mask,
            advantages=compute_advantages(rewards, args.num_generations, args.scale_rewards).to(self.rewritten.device),
            old_per_token_logps=None,
            ref_per_token_logps=None,
            num_items_in_batch=int(completion_mask.sum()),
            metrics={**reward_metrics(per_func_rewards, rewards, self.reward_names, args.num_generations), **metrics},
        )
        batch = batch.rows(torch.randperm(len(batch), generator=seeded_generator("cpu", args.seed, "shuffle", step)))
        if self.steps_per_round > self.steps_per_generation // args.gradient_accumulation_steps:
            batch.old_per_token_logps = self._logprobs_without_grad(batch)
        if args.beta != 0.0:
            with self.policy.disable_adapter():
                batch.ref_per_token_logps = self._logprobs_without_grad(batch)
        return batch

    def evaluate(
        self, eval_dataset: Any = None, ignore_keys: Any = None, metric_key_prefix: str = "eval"
    ) -> dict[str, float]:
        """Mean rewards on the prompts of `eval_dataset` (this call's, else the trainer's; num_generations_eval,
        else num_generations, completions each, sampled with keys of their own; split evenly between the processes,
        a remainder of fewer prompts than processes left out), logged with the prefix `metric_key_prefix` and given
        to the callbacks' on_evaluate. A dict of eval datasets is evaluated one by one, as transformers, each logged
        with the prefix `eval_NAME_`; a name picks one of the trainer's dict. `ignore_keys` is transformers' (for
        model outputs) and has no effect, as in TRL's GRPO."""
        if isinstance(eval_dataset, str):
            names = list(self.eval_dataset) if isinstance(self.eval_dataset, dict) else []
            if eval_dataset not in names:
                raise GRPODatasetError(f"evaluate(eval_dataset={eval_dataset!r}) names none of the trainer's eval "
                                       f"datasets ({', '.join(names) or 'it has no dict of them'}): pass one of "
                                       "those names, or the dataset itself.")
            prompts = self.eval_dataset[eval_dataset]
        else:
            prompts = self.eval_dataset if eval_dataset is None else self._eval_prompts(eval_dataset)
        if prompts is None:
            raise GRPODatasetError("evaluation needs prompts: pass GRPOTrainer(eval_dataset=...) or "
                                   "trainer.evaluate(eval_dataset=...).")
        if isinstance(prompts, dict):
            return {key: value for name, dataset in prompts.items()
                    for key, value in self._evaluate_one(dataset, f"{metric_key_prefix}_{name}").items()}
        return self._evaluate_one(prompts, metric_key_prefix)

    def _eval_prompts(self, eval_dataset: Any) -> PromptDataset | dict[str, PromptDataset]:
        """The prompts of an eval dataset, or of each of a dict of them, tokenized as the training prompts."""
        if isinstance(eval_dataset, dict):
            return {name: PromptDataset(data, **self.prompt_options) for name, data in eval_dataset.items()}
        return PromptDataset(eval_dataset, **self.prompt_options)

    def _evaluate_one(self, dataset: PromptDataset, prefix: str) -> dict[str, float]:
        generations = self.args.num_generations_eval or self.args.num_generations
        indices = list(range(len(dataset)))
        _, per_func_rewards, completion_metrics = self.rollouts(dataset, indices, -self.global_step - 1, generations)
        rewards = aggregate_rewards(per_func_rewards, self.args.reward_weights)
        metrics = {f"{prefix}_{name}": value for name, value in {
            **reward_metrics(per_func_rewards, rewards, self.reward_names, generations),
            **completion_metrics}.items()}
        logs = {**metrics, "epoch": self.state.epoch, "step": self.global_step}
        self.state.log_history.append(logs)
        self.events.fire("on_log", logs=logs)
        self.events.fire("on_evaluate", metrics=metrics)
        return metrics

    def compute_loss(
        self, micro_batch: GenerationBatch, windows: int = 1
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The GRPO loss of one micro-batch (`runtime.grpo.loss.compute_loss`), scaled for accumulation as TRL:
        grpo, bnpo and dr_grpo divided by the micro-batches of the step (accumulation steps times processes);
        dapo and cispo normalised by the loss tokens of the generation batch over its `windows` optimizer steps
        (TRL's num_items_in_batch * gradient_accumulation_steps / steps_per_generation). So the step's objective
        is the sum of its micro-batches' losses over all processes, and the gradients are summed."""
        args = self.args
        per_token_logps = completion_logprobs(
            self.rewritten, micro_batch.input_ids, micro_batch.attention_mask, micro_batch.prompt_length,
            temperature=args.temperature, chunk_size=args.logprob_chunk_size,
            gradient_checkpointing=args.gradient_checkpointing, activation_offload=self.activation_offload,
        )
        loss, metrics = grpo_loss.compute_loss(
            per_token_logps, micro_batch.old_per_token_logps, micro_batch.ref_per_token_logps,
            micro_batch.advantages, micro_batch.completion_mask,
            loss_type=args.loss_type, beta=args.beta, epsilon_low=args.epsilon, epsilon_high=args.epsilon_high,
            max_completion_length=args.max_completion_length,
            importance_sampling_level=args.importance_sampling_level,
            num_items_in_batch=micro_batch.num_items_in_batch / windows,
            use_bias_correction_kl=args.use_bias_correction_kl,
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
        peak_memory_bytes (this process's), elapsed_seconds and epoch. `state.log_history` holds every step's
        record, each evaluation's, and, last, the train() call's summary (`TrainResult.metrics` and step), as
        transformers' Trainer writes them; rank 0's run log holds the step records."""
        record = {
            "step": self.global_step,
            **metrics,
            "tokens_per_second": metrics["completion_tokens"] / step_seconds,
            "peak_memory_bytes": _peak_memory_bytes(self.rewritten.device),
            "elapsed_seconds": elapsed,
            "epoch": self.state.epoch,
        }
        self.state.log_history.append(record)
        if run_log is not None:
            run_log.write(record)
        self.events.fire("on_log", logs=record)
        return record

    def save_checkpoint(self, output_dir: Path, elapsed: float) -> Path:
        """OUT/checkpoint-STEP, with the generation batch when the next step trains on it again."""
        reused = self.global_step % self.steps_per_round != 0
        checkpoint = save_checkpoint(
            output_dir, self.policy, self.optimizer, self.lr_scheduler,
            TrainerState(self.global_step, elapsed, self.identity), self.args,
            self.generation_batch if reused else None, self.distributed,
        )
        self.events.fire("on_save")
        return checkpoint

    def save_model(self, output_dir: str | Path | None = None) -> Path:
        """Write the adapter (peft's files) and the tokenizer, if any, into `output_dir` (default: the config's),
        atomically; what `PeftModel.from_pretrained(<transformers gpt-oss model>, output_dir)` loads."""
        target = Path(output_dir if output_dir is not None else self.args.output_dir)
        if self.distributed.is_main:
            save_model_files(target, self.policy, self.processing_class)
        self.distributed.barrier()
        return target

    def _logprobs_without_grad(self, batch: GenerationBatch) -> torch.Tensor:
        """[B, C] log-probs in eval mode, per_device_train_batch_size rows at a time; each process computes those
        of the micro-batches it trains on, window by window (as `training_step` cuts them)."""
        windows = self.steps_per_generation // self.args.gradient_accumulation_steps
        per_window = self.args.gradient_accumulation_steps * self.distributed.world_size
        micro_batches = batch.micro_batches(per_window * windows)
        parts = []
        for window in range(windows):
            own = self.distributed.own_micro_batches(micro_batches[window * per_window : (window + 1) * per_window],
                                                     self.args.gradient_accumulation_steps)
            logps = torch.cat([
                completion_logprobs(self.rewritten, part.input_ids, part.attention_mask, part.prompt_length,
                                    temperature=self.args.temperature, chunk_size=self.args.logprob_chunk_size)
                for part in own
            ])
            parts.append(self.distributed.gather_rows(logps))
        return torch.cat(parts)


def _peak_memory_bytes(device: torch.device) -> int:
    """Peak CUDA memory allocated on `device`, or on CPU the process's peak resident set size."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports kilobytes
