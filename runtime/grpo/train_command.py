"""``train``: GRPO-train LoRA adapters of a rewritten gpt-oss checkpoint on a built-in task or your own data.

    rewrite train --preset tiny --task target-token --steps 40 --seed 0 --out runs/toy
    rewrite train --checkpoint build/tiny --task matmul --steps 3 --out runs/matmul
    rewrite train --checkpoint build/tiny --dataset data.jsonl --reward-funcs mymodule:reward --steps 3 --out runs/mine
    rewrite train --preset tiny --task target-token --steps 40 --seed 0 --out runs/toy --resume

--dataset reads JSONL, JSON, Parquet or CSV (or a saved `datasets` directory) with a prompt column (token ids,
text, or chat messages; other columns reach the reward functions, and those the chat template names, such as
reasoning_effort, the template); --reward-funcs are "module:function" names, imported with the working directory
on the path. Text and chat prompts are tokenized with the checkpoint's own tokenizer (or --tokenizer DIR).
Ctrl-C saves the last completed step and says how to resume.

--preset builds the preset with the default passes into OUT/base, unless a build of it is there already;
--checkpoint trains a checkpoint written by `rewrite build`. Every GRPOConfig field is an option (--steps is
--max-steps, --out is --output-dir); options left out take the task's settings (listed at the end), then
GRPOConfig's defaults. OUT receives log.jsonl, tensorboard/, reward_curve.png and checkpoint-STEP/ directories.
--resume continues from the newest checkpoint in OUT; without it an OUT that holds a run is refused, unless
--force deletes that run's outputs (OUT/base is kept).

Under torchrun the processes train one run together (runtime.grpo.distributed): N processes give the adapter
that one process gives with N times --gradient-accumulation-steps; rank 0 builds the preset and writes OUT.
With --fsdp, --preset builds nothing: each process builds the module on the meta device and draws its shard of
random weights (runtime.grpo.sharding), so gpt-oss-120b trains on GPUs that could not hold it, without writing its
bf16 build first. Those weights are not the build's: pass --checkpoint to train a build with --fsdp.

    torchrun --standalone --nproc_per_node 2 -m rewrite train --preset tiny --task target-token --steps 40 \\
        --out runs/toy
    torchrun --standalone --nproc_per_node 4 -m rewrite train --preset gpt-oss-120b --fsdp --task target-token \\
        --steps 1 --out runs/120b
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from runtime.grpo.config import GRPOConfig
from runtime.grpo.config_arguments import add_config_arguments
from runtime.grpo.errors import GRPOConfigError, GRPOOutputDirError
from runtime.grpo.tasks import TASKS, Task, get_task

# torch, transformers, datasets and the trainer are imported by `run_train`, not here: `rewrite --help` and
# `rewrite train --help` only build the argument parser.

BASE_DIR = "base"


class _TaskDefault:
    """Marks a config option left out on the command line: the task's setting, else GRPOConfig's, applies."""

    def __repr__(self) -> str:
        return "the task's setting"


TASK_DEFAULT = _TaskDefault()


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to a CLI's subparsers; its ``func`` returns the exit status."""
    parser = subparsers.add_parser(
        "train", help="GRPO-train LoRA adapters of a checkpoint on a built-in task or your own dataset",
        description=__doc__, epilog=_task_settings_text(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--preset",
        help="built-in model to build into OUT/base (e.g. tiny); with --fsdp nothing is built: random weights",
    )
    source.add_argument("--checkpoint", help="checkpoint directory written by `rewrite build`")
    job = parser.add_mutually_exclusive_group(required=True)
    job.add_argument("--task", choices=sorted(TASKS), help="built-in task (prompts and rewards)")
    job.add_argument("--dataset", help="your prompts: a JSONL/JSON/Parquet/CSV file or a saved datasets directory")
    parser.add_argument("--dataset-split", "--dataset_split",
                        help="split of --dataset (default: train, or its only one)")
    parser.add_argument("--prompt-column", "--prompt_column", default="prompt",
                        help="column of --dataset holding the prompts (default: prompt)")
    parser.add_argument("--reward-funcs", "--reward_funcs", nargs="+", metavar="MODULE:FUNCTION",
                        help="reward functions of --dataset, e.g. mymodule:reward "
                             "(mymodule.py in the working directory)")
    parser.add_argument("--tokenizer", help="tokenizer directory for text and chat prompts (default: the checkpoint's)")
    parser.add_argument("--out", dest="output_dir", required=True, help="output directory of the run")
    parser.add_argument("--steps", dest="max_steps", type=int, help="optimizer steps (same as --max-steps)")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in OUT")
    parser.add_argument("--force", action="store_true", help="delete another run's outputs in OUT and start over")
    parser.add_argument("--quantize", help="with --preset: build it with `rewrite build --quantize` (mxfp4 or nf4)")
    add_config_arguments(parser)
    parser.set_defaults(**{field.name: TASK_DEFAULT for field in dataclasses.fields(GRPOConfig)}, func=run_train)
    return parser


def run_train(args: argparse.Namespace) -> int:
    """Build or find the base checkpoint, then train ``args.task`` or ``args.dataset`` on it; returns the exit
    status."""
    from rewrite.manifest import read_manifest
    from runtime.grpo.dataset_files import load_dataset_file
    from runtime.grpo.distributed import Distributed
    from runtime.grpo.run_dir import check_output_dir
    from runtime.grpo.trainer import GRPOTrainer

    task = get_task(args.task) if args.task is not None else None
    _check_job_options(args, task)
    config = task_config(task, args)
    check_output_dir(Path(config.output_dir))
    distributed = Distributed.from_environment(config.use_cpu)
    try:
        if config.fsdp and args.preset is not None:
            model, vocab_size = _unbuilt_preset(args.preset, args.quantize)
        else:
            if distributed.is_main:
                _base_checkpoint(args.preset, args.checkpoint, Path(config.output_dir), args.quantize)
            distributed.barrier()
            model = str(_base_checkpoint(args.preset, args.checkpoint, Path(config.output_dir), args.quantize))
            vocab_size = read_manifest(Path(model))["spec"]["vocab_size"]
        tokenizer = _tokenizer(args, task, model)
        if task is not None:
            dataset, reward_funcs = task.build_dataset(vocab_size, config.seed), list(task.reward_funcs)
        else:
            dataset = load_dataset_file(args.dataset, split=args.dataset_split, prompt_column=args.prompt_column)
            reward_funcs = list(args.reward_funcs)
        trainer = GRPOTrainer(model, reward_funcs, args=config, train_dataset=dataset, processing_class=tokenizer)
        records = trainer.train(resume_from_checkpoint=args.resume, overwrite_output_dir=args.force)
    finally:
        distributed.shutdown()
    if records and distributed.is_main:
        print(f"step {records[-1]['step']}: reward {records[-1]['reward']:.4f}; outputs in {config.output_dir}")
    return 0


def _check_job_options(args: argparse.Namespace, task: Task | None) -> None:
    if task is None and not args.reward_funcs:
        raise GRPOConfigError("--dataset needs --reward-funcs MODULE:FUNCTION [...]: the functions that score its "
                              "completions (e.g. --reward-funcs mymodule:reward with mymodule.py here).")
    if task is not None and (args.reward_funcs or args.dataset_split or args.prompt_column != "prompt"):
        raise GRPOConfigError(f"--task {task.name} brings its own prompts and rewards: leave out --reward-funcs, "
                              "--dataset-split and --prompt-column, or train --dataset FILE instead.")


def _tokenizer(args: argparse.Namespace, task: Task | None, model: Any) -> Any:
    """The tokenizer of text and chat prompts: --tokenizer, else the checkpoint's own; None for token-id tasks."""
    from rewrite.tokenizer_files import load_tokenizer
    from runtime.grpo.sharding import UnbuiltPreset

    if task is not None and not task.uses_tokenizer and args.tokenizer is None:
        return None
    if args.tokenizer is not None:
        return load_tokenizer(args.tokenizer)
    if isinstance(model, UnbuiltPreset):
        raise GRPOConfigError("--fsdp --preset builds no checkpoint, so there is no tokenizer to read: pass "
                              "--tokenizer DIR (a `rewrite build` of the preset has one).")
    return load_tokenizer(model)


def task_config(task: Task | None, args: argparse.Namespace) -> GRPOConfig:
    """The run's GRPOConfig: options given on the command line, then the task's settings, then TensorBoard logging
    (`--report-to none` turns it off), then GRPOConfig's defaults."""
    given = {
        field.name: getattr(args, field.name)
        for field in dataclasses.fields(GRPOConfig)
        if getattr(args, field.name) is not TASK_DEFAULT
    }
    defaults = {"report_to": "tensorboard", **(task.config_defaults if task is not None else {})}
    return GRPOConfig(**{**defaults, **given})


def _unbuilt_preset(preset: str, quantize: str | None) -> tuple[Any, int]:
    """The preset that --fsdp trains without building it (an `UnbuiltPreset`), and its vocabulary size."""
    from rewrite.presets import preset_config
    from runtime.grpo.sharding import UnbuiltPreset

    if quantize is not None:
        raise GRPOConfigError(
            "--fsdp --preset draws full-precision weights and builds nothing to quantize: leave out --quantize, or "
            "build the preset with `rewrite build --quantize` and pass --checkpoint."
        )
    return UnbuiltPreset(preset), preset_config(preset).vocab_size


def _base_checkpoint(preset: str | None, checkpoint: str | None, output_dir: Path, quantize: str | None) -> Path:
    from rewrite.build import build
    from rewrite.manifest import read_manifest

    if checkpoint is not None:
        return Path(checkpoint)
    base = output_dir / BASE_DIR
    if not base.exists():
        build(base, preset=preset, quantize=quantize, progress=_progress)
        return base
    manifest = read_manifest(base)
    built_from = manifest["source"].get("preset")
    quantized = (manifest.get("quantization") or {}).get("format", {}).get("quant_type")
    if (built_from, quantized) != (preset, quantize):
        raise GRPOOutputDirError(
            f"{base} holds a build of {built_from or 'a checkpoint'} (quantized: {quantized or 'no'}), not of preset "
            f"{preset!r} (quantized: {quantize or 'no'}): use another --out, or delete {base}."
        )
    return base


def _progress(message: str) -> None:
    print(f"[rewrite train] {message}", file=sys.stderr, flush=True)


def _task_settings_text() -> str:
    lines = ["task settings (used for options left out):"]
    for task in TASKS.values():
        settings = ", ".join(f"{name}={value}" for name, value in task.config_defaults.items())
        lines.append(f"  {task.name}: {task.description}\n    {settings}")
    return "\n".join(lines)
