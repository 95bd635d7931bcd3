"""``reward-check``: judge code files as the rewards would, one JSON line per file.

    rewrite reward-check --task matmul FILE...
    python -m runtime.rewards.check_command --task matmul FILE...

Each line is ``{"file", "verdict": "accept"|"reject", "stage": "static"|"runtime"|"ok", "rules": [...],
"score", "findings": [...]}``; ``score`` is the speed-up over the task's reference (0 when rejected).
A file is accepted only when it passes analysis, runs in the sandbox and is correct. Exit status: 0 when
every file is accepted, 1 when any is rejected, 2 when a file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from runtime.rewards.completion_code import extract_python_code
from runtime.rewards.evaluation import evaluate
from runtime.rewards.task_registry import TASKS, get_task


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``reward-check`` subcommand to a CLI's subparsers; its ``func`` returns the exit status."""
    parser = subparsers.add_parser(
        "reward-check", help="judge code files with the task's static analysis, sandbox and checks",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    return parser


def run_reward_check(args: argparse.Namespace) -> int:
    """Judge ``args.files`` for ``args.task``, print one JSON line each, return the exit status."""
    unreadable = [path for path in args.files if not path.is_file()]
    if unreadable:
        print(f"reward-check: cannot read {', '.join(map(str, unreadable))}; pass existing code files",
              file=sys.stderr)
        return 2
    task = get_task(args.task)
    all_accepted = True
    for path in args.files:
        evaluation = evaluate(extract_python_code(path.read_text(encoding="utf-8", errors="replace")), task,
                              seed=args.seed)
        all_accepted &= evaluation.accepted
        print(json.dumps({
            "file": str(path),
            "verdict": evaluation.verdict,
            "stage": evaluation.stage,
            "rules": list(evaluation.rules),
            "score": round(evaluation.speedup, 3),
            "findings": [str(finding) for finding in evaluation.findings],
        }), flush=True)
    return 0 if all_accepted else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``reward-check`` on its own: ``python -m runtime.rewards.check_command --task matmul FILE...``."""
    parser = argparse.ArgumentParser(prog="python -m runtime.rewards.check_command", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(parser)
    args = parser.parse_args(argv)
    return args.func(args)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, choices=sorted(TASKS), help="the task the code is written for")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random test inputs (default 0)")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="Python files (or markdown with a "
                        "python code block)")
    parser.set_defaults(func=run_reward_check)


if __name__ == "__main__":
    sys.exit(main())
