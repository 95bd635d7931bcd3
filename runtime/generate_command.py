"""``generate``: text in, text out: a prompt as a user message, the reply's final channel streamed to stdout.

    rewrite generate build/gpt-oss-20b --prompt "Write a fast matmul in pure Python" --reasoning-effort low
    rewrite generate build/tiny --prompt hello --adapter runs/toy/checkpoint-40 --max-new-tokens 64 --json

The prompt is rendered with the build's chat template (`--reasoning-effort` goes to the template) and generated
with the project's engine until one of the stop tokens of the build's generation_config.json. The final channel is
written to stdout as it is generated; --show-thinking writes the analysis channel to stderr as well. --json prints
only one JSON object at the end: {"thinking", "content", "tool_calls", "completion_ids", "finish_reason"}.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rewrite.cli_types import device_name


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``generate`` subcommand to a CLI's subparsers; its ``func`` returns the exit status."""
    parser = subparsers.add_parser(
        "generate", help="reply to a prompt with a build's chat template, streaming the final channel",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("directory", help="checkpoint directory written by `rewrite build` (with a tokenizer)")
    parser.add_argument("--prompt", required=True, help="the user message")
    parser.add_argument("--reasoning-effort", help="low, medium or high (default: the chat template's)")
    parser.add_argument("--adapter", help="a LoRA adapter to apply: RUN/checkpoint-N, or `rewrite export`'s output")
    parser.add_argument("--max-new-tokens", type=int, default=512, help="most tokens to generate (default 512)")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="sampling temperature; 0 is greedy (default 1)")
    parser.add_argument("--seed", type=int, help="seed of the sampling, for a repeatable reply")
    parser.add_argument("--device", type=device_name, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--show-thinking", action="store_true", help="stream the analysis channel to stderr too")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end instead of streaming")
    parser.set_defaults(func=run_generate)
    return parser


def run_generate(args: argparse.Namespace) -> int:
    """Load the build (and adapter), generate the reply to ``args.prompt``; returns the exit status."""
    import torch

    from rewrite import load, load_tokenizer
    from rewrite.manifest import read_manifest
    from runtime.chat import chat, check_reasoning_effort
    from runtime.peft_adapter import attach_adapter

    check_reasoning_effort(args.reasoning_effort)
    directory = Path(args.directory)
    read_manifest(directory)  # a clear error for what is not a build, before anything is loaded
    tokenizer = load_tokenizer(directory)
    model = load(directory, device=args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if args.adapter is not None:
        attach_adapter(model, args.adapter)
    printer = _StreamPrinter(content=not args.json, thinking=args.show_thinking)
    result = chat(model, tokenizer, [{"role": "user", "content": args.prompt}],
                  reasoning_effort=args.reasoning_effort, max_new_tokens=args.max_new_tokens,
                  temperature=args.temperature, seed=args.seed, eos_token_id=_stop_token_ids(directory),
                  on_text=printer.write)
    printer.close()
    if args.json:
        print(json.dumps(result.to_json()))
    return 0


def _stop_token_ids(directory: Path) -> int | list[int] | None:
    """The eos tokens of the build's generation_config.json (None without one)."""
    from transformers import GenerationConfig

    if not (directory / "generation_config.json").is_file():
        return None
    return GenerationConfig.from_pretrained(directory).eos_token_id


class _StreamPrinter:
    """The reply's content to stdout and (when asked) its thinking to stderr, as they arrive; a stream's line is
    ended when the other one is written to, and at the end."""

    def __init__(self, content: bool, thinking: bool) -> None:
        self.streams = {"content": sys.stdout if content else None, "thinking": sys.stderr if thinking else None}
        self.unended = None

    def write(self, field: str, text: str) -> None:
        stream = self.streams[field]
        if stream is None:
            return
        if self.unended not in (None, stream):
            self.close()
        stream.write(text)
        stream.flush()
        self.unended = stream

    def close(self) -> None:
        if self.unended is not None:
            self.unended.write("\n")
            self.unended.flush()
            self.unended = None
