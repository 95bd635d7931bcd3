"""The `rewrite` command: build, check, diff and inspect rewritten gpt-oss checkpoints, and train them."""

from __future__ import annotations

import argparse
import json
import sys
import time

from runtime.export_command import register as register_export
from runtime.generate_command import register as register_generate
from runtime.grpo.train_command import register as register_train
from runtime.rewards.check_command import register as register_reward_check

from .cli_run import run_command
from .cli_types import device_name, non_negative_int

# Every module imported above builds its parser from argparse and plain data: torch and the rest are imported by
# the command that runs (`rewrite --help` answers without them).


def _progress(message: str) -> None:
    print(f"[rewrite {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _add_build(subparsers) -> None:
    parser = subparsers.add_parser(
        "build",
        help="capture a gpt-oss model, run passes, write a checkpoint",
        description="Capture a gpt-oss model with torch.export, run the pass pipeline (each pass verified "
        "against the stage before on a left-padded sample batch), and write a checkpoint directory that "
        "is also a valid transformers checkpoint.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help="built-in model: tiny, gpt-oss-20b or gpt-oss-120b (random weights)")
    source.add_argument("--checkpoint", help="local transformers gpt-oss checkpoint directory")
    parser.add_argument("--out", required=True, help="output checkpoint directory")
    parser.add_argument("--passes", default="default",
                        help="comma list of passes, 'none', or 'default' (all); the structure passes "
                        "(linear_modules, embedding_module, layer_modules) always run")
    parser.add_argument("--dtype", help="float32 (CPU default), bfloat16 (CUDA default) or float16")
    parser.add_argument("--device", default="cpu", type=device_name, help="device to build on (cpu, cuda)")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--no-verify", action="store_true", help="skip checking each pass numerically")
    parser.add_argument("--quantize", help="mxfp4: experts in MXFP4 as OpenAI ships them, built streaming; nf4: "
                        "attention projections and experts in bitsandbytes 4-bit NF4 (needs bitsandbytes); "
                        "left out, weights keep --dtype")
    parser.set_defaults(func=_run_build)


def _run_build(args) -> int:
    from .build import build
    from .source import parse_dtype

    out = build(
        args.out,
        preset=args.preset,
        checkpoint=args.checkpoint,
        passes=args.passes,
        dtype=parse_dtype(args.dtype, args.device),
        device=args.device,
        force=args.force,
        verify=not args.no_verify,
        quantize=args.quantize,
        progress=_progress,
    )
    print(out)
    return 0


def _add_check(subparsers) -> None:
    parser = subparsers.add_parser(
        "check",
        help="compare a checkpoint with transformers' eager forward",
        description="Max error of the logits and of every layer's hidden state against transformers' "
        "eager forward on the same weights: a left-padded batch with prompts longer than the sliding "
        "window, prefill then decode steps. Exits 1 when any error exceeds the tolerance.",
    )
    parser.add_argument("checkpoint", help="checkpoint directory written by `rewrite build`")
    parser.add_argument("--device", default="cpu", type=device_name, help="device to run both models on (cpu, cuda)")
    parser.add_argument("--tolerance", type=float, help="on errors scaled by max(1, max |eager|): the max "
                        "difference in float32 (default 1e-5), the mean difference in bf16/fp16 (default 0.15)")
    parser.add_argument("--decode-steps", type=non_negative_int, default=3, help="decode steps after the prefill")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.set_defaults(func=_run_check)


def _run_check(args) -> int:
    from .check import check_checkpoint

    _progress(f"checking {args.checkpoint} against transformers eager")
    comparison = check_checkpoint(args.checkpoint, args.device, args.tolerance, args.decode_steps)
    if args.json:
        print(json.dumps(comparison.to_json(), indent=2))
    else:
        print(f"{'output':>16}  error ({comparison.statistic} |ours - eager| / max(1, max |eager|), "
              "prefill and decode)")
        for output, error in comparison.layer_errors.items():
            print(f"{output:>16}  {error:.3e}")
        verdict = "PASS" if comparison.passed else "FAIL"
        print(f"{verdict}: max error {comparison.max_error:.3e} (absolute {comparison.max_absolute_error:.3e}), "
              f"tolerance {comparison.tolerance:.1e}")
        if comparison.quantization_error is not None:
            print(f"quantized checkpoint: checked against eager on its dequantized weights; against the original "
                  f"weights the error is {comparison.quantization_error:.3e} (the quantization's, not judged)")
    return 0 if comparison.passed else 1


def _add_diff(subparsers) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="what changed between the graphs of two checkpoints",
        description="Nodes added, removed and retargeted between two checkpoints' graphs, grouped by op.",
    )
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=_run_diff)


def _run_diff(args) -> int:
    from .graphdiff import diff, diff_json, read_structure

    result = diff(read_structure(args.before), read_structure(args.after))
    print(diff_json(result) if args.json else result.summary(), end="" if not args.json else "\n")
    return 0


def _add_inspect(subparsers) -> None:
    parser = subparsers.add_parser("inspect", help="show a checkpoint's manifest and pass reports")
    parser.add_argument("checkpoint")
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON")
    parser.add_argument("--verify-checksums", action="store_true",
                        help="hash every file against the manifest too (sizes are always checked)")
    parser.set_defaults(func=_run_inspect)


def _run_inspect(args) -> int:
    from pathlib import Path

    from .checkpoint_directory import CheckpointDirectory
    from .graph_pass import PassReport

    checkpoint = CheckpointDirectory(Path(args.checkpoint))
    checkpoint.check_files(verify_checksums=args.verify_checksums)
    manifest = checkpoint.manifest
    if args.json:
        print(json.dumps(manifest, indent=2))
        return 0
    spec = manifest["spec"]
    print(f"checkpoint   {args.checkpoint}")
    print(f"source       {manifest['source']}")
    print(f"built with   {manifest['created_by']}")
    print(f"model        {spec['num_layers']} layers, {spec['num_attention_heads']} q heads on "
          f"{spec['num_key_value_heads']} kv heads, window {spec['sliding_window']}, {spec['dtype']}")
    print(f"graph hash   {manifest['graph_hash'][:16]}")
    print(f"runtime      {manifest['runtime'] or '{}'}")
    roles = checkpoint.roles
    print(f"roles        embedding {roles.embedding}, {len(roles.layers)} layers, lm_head {roles.lm_head}")
    print(f"files        {len(manifest['files'])}, {sum(f['bytes'] for f in manifest['files'].values()):,} bytes, "
          + ("sizes and sha256 match" if args.verify_checksums else "sizes match") + " the manifest")
    print("passes")
    for entry in manifest["passes"]:
        print("  " + PassReport(**entry).summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rewrite", description="Compile gpt-oss for fast generation and GRPO training."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for add in (_add_build, _add_check, _add_diff, _add_inspect, register_reward_check, register_train,
                register_export, register_generate):
        add(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one `rewrite` command; our errors end it with a one-line message and exit status 2 (`run_command`)."""
    args = build_parser().parse_args(argv)
    return run_command(f"rewrite {args.command}", args)


if __name__ == "__main__":
    sys.exit(main())
