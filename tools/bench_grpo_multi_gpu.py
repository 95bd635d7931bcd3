"""The GRPO trainer's step on 1, 2, ... GPUs (torchrun): throughput and scaling.

For each process count N the script launches `torchrun --standalone --nproc_per_node N` on itself. Every process
builds `GRPOTrainer` on the checkpoint, or on the preset rewritten in memory on its own device (with `--fsdp`: built
sharded, `runtime.grpo.sharding.UnbuiltPreset`), with LoRA r=16 on the attention projections, the dapo loss and
gradient checkpointing; it runs WARMUP_STEPS untimed steps (compilation) and `--steps` timed steps of
PROMPTS x GENERATIONS completions of NEW_TOKENS tokens (random prompts of 64 tokens, the cheap even-tokens reward),
micro-batches of MICRO_BATCH rows, gradient accumulation making up the rest. `--scaling strong` (default): every N
trains the same global batch. `--scaling weak`: PROMPTS per process, so N processes train N times the batch per step.
`--scaling strong weak` runs both (one process is the same run under both: it runs once). Printed as one JSON
object: per run, samples (completions) per second, seconds per phase (generate_and_score; loss forward; backward;
optimizer step with the gradient all-reduce), peak memory per process (allocated; on CUDA also reserved, what a
card must have free); and, per scaling, the ratio of each N's samples per second to the first N's. Each run's JSON
goes to stderr as it ends, and rank 0 prints each phase's seconds as it ends.

    python tools/bench_grpo_multi_gpu.py --preset gpt-oss-20b --processes 1 2 --scaling strong weak
    python tools/bench_grpo_multi_gpu.py --preset gpt-oss-120b --processes 4 --fsdp --steps 1 --warmup-steps 0
    python tools/bench_grpo_multi_gpu.py --device cpu --preset tiny --processes 1 2  # smoke

`--device cpu` is a smoke test of the script itself (gloo, float32), with small sizes unless given.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import SimpleNamespace

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rewrite.presets import preset_config  # noqa: E402
from runtime.grpo import GRPOConfig, UnbuiltPreset  # noqa: E402
from runtime.grpo.distributed import Distributed  # noqa: E402
from runtime.grpo.tasks import even_token_reward  # noqa: E402
from runtime.grpo.trainer import GRPOTrainer  # noqa: E402
from tools.rewritten_preset import rewritten_preset  # noqa: E402

PROMPT_TOKENS = 64
GPU_SIZES = {"prompts": 8, "generations": 8, "new_tokens": 256, "micro_batch": 8}
CPU_SMOKE_SIZES = {"prompts": 4, "generations": 4, "new_tokens": 8, "micro_batch": 4}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a directory written by `rewrite build`")
    source.add_argument("--preset", help="a preset: each process builds and rewrites it in memory (bf16 on cuda), "
                        "unless --build-dir is given")
    parser.add_argument("--build-dir", help="build --preset into this checkpoint directory first (unless it is there)")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="process (GPU) counts to run")
    parser.add_argument("--fsdp", action="store_true", help="shard the frozen base model (GRPOConfig.fsdp)")
    parser.add_argument("--steps", type=int, default=2, help="timed steps after the warm-up steps")
    parser.add_argument("--warmup-steps", type=int, default=1,
                        help="untimed steps first (compilation, allocator); 0 times the first step")
    parser.add_argument("--scaling", choices=["strong", "weak"], nargs="+", default=["strong"],
                        help="strong: every N trains the same global batch (--prompts); weak: --prompts per process")
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    for name in GPU_SIZES:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, help=f"default {GPU_SIZES[name]} on cuda, "
                            f"{CPU_SMOKE_SIZES[name]} on cpu")
    parser.add_argument("--worker-output", help=argparse.SUPPRESS)  # set by the launcher for each torchrun
    args = parser.parse_args()
    defaults = GPU_SIZES if args.device == "cuda" else CPU_SMOKE_SIZES
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def main() -> None:
    args = parse_arguments()
    if args.worker_output:
        worker(args)
        return
    if args.preset and args.build_dir:
        args.checkpoint, args.preset = str(build_preset(args)), None
    results = {"checkpoint": args.checkpoint, "preset": args.preset, "fsdp": args.fsdp, "torch": torch.__version__,
               "warmup_steps": args.warmup_steps, "timed_steps": args.steps,
               **{name: getattr(args, name) for name in GPU_SIZES}, "runs": []}
    runs = {}  # (processes, scaling) -> rank 0's result; one process is the same run under either scaling
    for scaling in args.scaling:
        for processes in args.processes:
            key = _run_key(processes, scaling)
            if key not in runs:
                runs[key] = launch(args, processes, scaling)
                results["runs"].append(runs[key])
                print(json.dumps(runs[key]), file=sys.stderr, flush=True)
    for scaling in args.scaling:
        first, *others = (runs[_run_key(processes, scaling)] for processes in args.processes)
        for run in others:
            results[f"{scaling}_scaling_{run['processes']}_vs_{first['processes']}"] = round(
                run["samples_per_second"] / first["samples_per_second"], 3)
    print(json.dumps(results, indent=1))


def _run_key(processes: int, scaling: str) -> tuple[int, str]:
    return processes, scaling if processes > 1 else "any"


def build_preset(args: argparse.Namespace) -> Path:
    out = Path(args.build_dir)
    if not (out / "manifest.json").is_file():  # the passes' numerics are the tests' business, not the benchmark's
        dtype = "bfloat16" if args.device == "cuda" else "float32"
        subprocess.run([sys.executable, "-m", "rewrite", "build", "--preset", args.preset, "--out", str(out),
                        "--device", args.device, "--dtype", dtype, "--force", "--no-verify"], check=True)
    return out


def launch(args: argparse.Namespace, processes: int, scaling: str) -> dict:
    """Run the worker under torchrun with `processes` processes and `scaling`; rank 0's JSON result."""
    with tempfile.TemporaryDirectory() as scratch:
        output = Path(scratch) / "result.json"
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
                   __file__, *(["--checkpoint", args.checkpoint] if args.checkpoint else ["--preset", args.preset]),
                   "--device", args.device, "--steps", str(args.steps), "--warmup-steps", str(args.warmup_steps),
                   "--scaling", scaling,
                   "--worker-output", str(output), *(["--fsdp"] if args.fsdp else []),
                   *(option for name in GPU_SIZES
                     for option in (f"--{name.replace('_', '-')}", str(getattr(args, name))))]
        subprocess.run(command, check=True)
        return json.loads(output.read_text())


def worker(args: argparse.Namespace) -> None:
    """One process of a torchrun: build the trainer, time its steps, rank 0 writes the result."""
    processes = int(os.environ.get("WORLD_SIZE", "1"))
    (scaling,) = args.scaling  # the launcher passes one
    prompts = args.prompts * (processes if scaling == "weak" else 1)
    rows = prompts * args.generations
    if rows % (processes * args.micro_batch):
        sys.exit(f"{rows} completions per step do not split into micro-batches of {args.micro_batch} on "
                 f"{processes} processes")
    setup_started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        config = GRPOConfig(
            output_dir=scratch, per_device_train_batch_size=args.micro_batch,
            gradient_accumulation_steps=rows // (processes * args.micro_batch), num_generations=args.generations,
            max_completion_length=args.new_tokens, max_prompt_length=PROMPT_TOKENS, learning_rate=1e-5,
            lora_r=16, lora_alpha=32, lora_dropout=0.0, gradient_checkpointing=True, max_steps=args.steps + 1,
            use_cpu=args.device == "cpu", fsdp=args.fsdp, seed=0,
        )
        tokens = None  # a checkpoint directory says its stop and pad tokens; a model in memory takes the preset's
        if args.checkpoint:
            model = args.checkpoint
            vocab = json.loads((Path(args.checkpoint) / "manifest.json").read_text())["spec"]["vocab_size"]
        elif args.fsdp:  # sharded while built: random rows per process, nothing whole anywhere
            model, vocab = UnbuiltPreset(args.preset), preset_config(args.preset).vocab_size
        else:
            device = f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if args.device == "cuda" else "cpu"
            dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
            model = rewritten_preset(args.preset, dtype, device)
            vocab = model.spec.vocab_size
            preset = preset_config(args.preset)
            tokens = SimpleNamespace(eos_token_id=preset.eos_token_id, pad_token_id=preset.pad_token_id)
        generator = torch.Generator().manual_seed(0)
        dataset = [{"prompt": torch.randint(3, vocab, (PROMPT_TOKENS,), generator=generator).tolist()}
                   for _ in range(prompts)]
        trainer = GRPOTrainer(model, even_token_reward, train_dataset=dataset, args=config, processing_class=tokens)
        setup_seconds = time.perf_counter() - setup_started
        if trainer.distributed.is_main:
            print(f"rank 0: model and trainer built in {setup_seconds:.1f} s", file=sys.stderr, flush=True)
        timings = time_phases(trainer)
        for _ in range(args.warmup_steps):  # compilation, allocator
            trainer.training_step()
        timings.clear()
        device = trainer.distributed.device
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        started = time.perf_counter()
        completion_tokens = sum(trainer.training_step()["completion_tokens"] for _ in range(args.steps))
        step_seconds = (time.perf_counter() - started) / args.steps
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else _resident_peak()
    peaks = trainer.distributed.gather_objects([round(peak / 2**30, 2)])
    reserved = trainer.distributed.gather_objects(
        [round(torch.cuda.max_memory_reserved(device) / 2**30, 2)] if device.type == "cuda" else [None])
    if trainer.distributed.is_main:
        phases = {name: round(seconds / args.steps, 3) for name, seconds in timings.items()}
        phases["backward_s"] = round(step_seconds - sum(phases.values()), 3)
        result = {
            "processes": processes, "scaling": _run_key(processes, scaling)[1], "device": _device_name(device),
            "samples_per_step": rows,
            "setup_s": round(setup_seconds, 1), "samples_per_second": round(rows / step_seconds, 2),
            "step_s": round(step_seconds, 3),
            "completion_tokens_per_step": completion_tokens // args.steps, "phases": phases,
            "peak_memory_gib_per_process": peaks, "peak_reserved_gib_per_process": reserved,
        }
        Path(args.worker_output).write_text(json.dumps(result))
    trainer.distributed.shutdown()


def time_phases(trainer: GRPOTrainer) -> dict[str, float]:
    """Wrap the trainer's phases so that their seconds (summed over calls) land in the returned dict."""
    timings: dict[str, float] = defaultdict(float)
    for method, name in (("generate_and_score", "generate_and_score_s"), ("compute_loss", "loss_forward_s"),
                         ("optimizer_step", "optimizer_step_s")):
        setattr(trainer, method, _timed(getattr(trainer, method), name, timings, trainer.distributed))
    return timings


def _timed(function, name: str, timings: dict[str, float], distributed: Distributed):
    def timed(*args, **kwargs):
        _synchronize(distributed.device)
        started = time.perf_counter()
        result = function(*args, **kwargs)
        _synchronize(distributed.device)
        seconds = time.perf_counter() - started
        timings[name] += seconds
        if distributed.is_main:
            print(f"rank 0: {name} {seconds:.2f}", file=sys.stderr, flush=True)
        return result

    return timed


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"


def _resident_peak() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


if __name__ == "__main__":
    main()
