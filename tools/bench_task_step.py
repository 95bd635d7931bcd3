"""The trainer's GRPO step on a built-in task: `--task matmul` (the seed's workflow) beside the toy task.

Both runs build the preset rewritten in memory on the GPU (bf16, random weights) with the preset's harmony
tokenizer, and train one `GRPOTrainer` each with the same shape: PROMPTS prompts x GENERATIONS completions of up
to NEW_TOKENS tokens, micro-batches of MICRO_BATCH rows with gradient accumulation, LoRA r=16 on the attention
projections, dapo, beta 0, gradient checkpointing. The matmul run's prompts are the task's chat prompt (reasoning
effort low) and its four rewards run the project's judge on each completion's final channel; the toy run's
prompts are random token ids and its reward counts even tokens. One warm-up step (compilation), then `--steps`
timed steps. Per phase: seconds per step and peak GPU memory allocated and reserved (generation; scoring: the
reward functions; loss forward; backward; optimizer step). One JSON object on stdout.

    python tools/bench_task_step.py --preset gpt-oss-20b
    python tools/bench_task_step.py --preset tiny --device cpu --new-tokens 8  # smoke
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import runtime.grpo.scored_rollouts as scored_rollouts  # noqa: E402
from rewrite import preset_tokenizer  # noqa: E402
from runtime.grpo import GRPOConfig, GRPOTrainer  # noqa: E402
from runtime.grpo.tasks import get_task  # noqa: E402
from tools.rewritten_preset import rewritten_preset  # noqa: E402

PHASES = ("generation", "scoring", "loss_forward", "backward", "optimizer_step")
ORIGINAL_SAMPLING = scored_rollouts.sample_completions
ORIGINAL_SCORING = scored_rollouts.score_completions


class PhaseClock:
    """Seconds and peak memory of each phase, summed (seconds) or maxed (memory) over calls."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.seconds: dict[str, float] = defaultdict(float)
        self.peak_gib: dict[str, float] = defaultdict(float)
        self.reserved_gib: dict[str, float] = defaultdict(float)

    def wrap(self, function, name: str):
        def timed(*args, **kwargs):
            self._synchronize()
            if self.device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(self.device)
            started = time.perf_counter()
            result = function(*args, **kwargs)
            self._synchronize()
            self.seconds[name] += time.perf_counter() - started
            if self.device.type == "cuda":
                self.peak_gib[name] = max(self.peak_gib[name], torch.cuda.max_memory_allocated(self.device) / 2**30)
                self.reserved_gib[name] = max(self.reserved_gib[name],
                                              torch.cuda.max_memory_reserved(self.device) / 2**30)
            return result

        return timed

    def clear(self) -> None:
        self.seconds.clear()
        self.peak_gib.clear()
        self.reserved_gib.clear()

    def _synchronize(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def run_task(task_name: str, model, tokenizer, args: argparse.Namespace) -> dict:
    """Warm-up step, then `args.steps` timed steps of the trainer on `task_name`."""
    task = get_task(task_name)
    rows = args.prompts * args.generations
    with tempfile.TemporaryDirectory() as scratch:
        config = GRPOConfig(
            output_dir=scratch, per_device_train_batch_size=args.micro_batch,
            gradient_accumulation_steps=rows // args.micro_batch, num_generations=args.generations,
            max_completion_length=args.new_tokens, learning_rate=1e-5, lora_r=16, lora_alpha=32, lora_dropout=0.0,
            gradient_checkpointing=True, max_steps=args.steps + 1, save_strategy="no", seed=0,
            use_cpu=args.device == "cpu",
        )
        dataset = task.build_dataset(model.spec.vocab_size, 0)
        trainer = GRPOTrainer(model, list(task.reward_funcs), args=config, train_dataset=dataset,
                              processing_class=tokenizer)
        clock = PhaseClock(model.device)
        scored_rollouts.sample_completions = clock.wrap(ORIGINAL_SAMPLING, "generation")
        scored_rollouts.score_completions = clock.wrap(ORIGINAL_SCORING, "scoring")
        trainer.compute_loss = clock.wrap(trainer.compute_loss, "loss_forward")
        trainer.optimizer_step = clock.wrap(trainer.optimizer_step, "optimizer_step")
        trainer.training_step()  # warm-up: compilation, allocator
        clock.clear()
        started = time.perf_counter()
        metrics = [trainer.training_step() for _ in range(args.steps)]
        step_seconds = (time.perf_counter() - started) / args.steps
        model.graph_module = trainer.policy.unload()  # the next run attaches its own adapters
    measured = sum(clock.seconds.values()) / args.steps
    phases = {name: round(clock.seconds[name] / args.steps, 3) for name in PHASES if name != "backward"}
    phases["backward"] = round(step_seconds - measured, 3)  # what the wrapped phases leave: backward passes
    return {
        "task": task_name, "step_s": round(step_seconds, 3), "phases_s": phases,
        "phase_peak_allocated_gib": {name: round(value, 2) for name, value in clock.peak_gib.items()},
        "phase_peak_reserved_gib": {name: round(value, 2) for name, value in clock.reserved_gib.items()},
        "step_peak_allocated_gib": round(max(clock.peak_gib.values()), 2) if clock.peak_gib else None,
        "completion_tokens_per_step": sum(record["completion_tokens"] for record in metrics) / args.steps,
        "reward_means": {key: round(value, 4) for key, value in metrics[-1].items() if key.startswith("rewards/")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="gpt-oss-20b")
    parser.add_argument("--device", default="cuda", help="cuda; cpu only to smoke-test the script on a tiny preset")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--tasks", nargs="+", default=["matmul", "even-tokens"])
    args = parser.parse_args()
    torch.manual_seed(0)
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    built = time.perf_counter()
    model = rewritten_preset(args.preset, dtype, args.device)
    tokenizer = preset_tokenizer(args.preset)
    result = {"device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu", "torch": torch.__version__,
              "preset": args.preset, "prompts": args.prompts, "generations": args.generations,
              "new_tokens": args.new_tokens, "micro_batch": args.micro_batch, "lora_r": 16,
              "build_s": round(time.perf_counter() - built, 1), "runs": []}
    for task_name in args.tasks:
        run = run_task(task_name, model, tokenizer, args)
        print(json.dumps(run), file=sys.stderr, flush=True)
        result["runs"].append(run)
    if len(result["runs"]) == 2:
        result["step_ratio_first_over_second"] = round(result["runs"][0]["step_s"] / result["runs"][1]["step_s"], 3)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
