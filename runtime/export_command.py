"""``export``: a training checkpoint's adapter as a peft adapter or a merged transformers checkpoint.

    rewrite export RUN/checkpoint-N --out DIR                  # peft adapter + tokenizer
    rewrite export RUN/checkpoint-N --out DIR --merged         # transformers checkpoint, adapter merged, bf16

The adapter loads with `PeftModel.from_pretrained(GptOssForCausalLM.from_pretrained(BASE), DIR)`; the merged
checkpoint with `GptOssForCausalLM.from_pretrained(DIR)`; the tokenizer of either with
`AutoTokenizer.from_pretrained(DIR)`. The base build is found where the run recorded it, or in RUN/base; pass
--base when it has moved.
"""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``export`` subcommand to a CLI's subparsers; its ``func`` returns the exit status."""
    parser = subparsers.add_parser(
        "export", help="write a training checkpoint's adapter for transformers and peft (merged or not)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checkpoint", help="RUN/checkpoint-N directory written by `rewrite train`")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--merged", action="store_true",
                        help="write the base's weights with the adapter merged instead of the adapter alone")
    parser.add_argument("--dtype", default="bfloat16",
                        help="with --merged: the weights' dtype (default bfloat16; float32, float16)")
    parser.add_argument("--base", help="the build the run trained, if it is no longer where the run recorded it")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    parser.set_defaults(func=run_export)
    return parser


def run_export(args: argparse.Namespace) -> int:
    """Export ``args.checkpoint`` to ``args.out``; print the output directory; returns the exit status."""
    from rewrite.source import parse_dtype
    from runtime.export import export

    out = export(args.checkpoint, args.out, merged=args.merged, dtype=parse_dtype(args.dtype, "cpu"),
                 base=args.base, force=args.force, progress=_progress)
    print(out)
    return 0


def _progress(message: str) -> None:
    print(f"[rewrite export] {message}", file=sys.stderr, flush=True)
