"""``reward-check``: judge code files as the rewards would, one JSON line per file.

    rewrite reward-check --task matmul FILE...
    python -m runtime.rewards.check_command --task matmul FILE...

Each line is ``{"file", "verdict": "accept"|"reject", "stage": "static"|"runtime"|"ok", "rules": [...],
"score", "findings": [...], "seed", "warning"}``; ``score`` is the speed-up over the task's reference (0 when
rejected); ``seed`` reproduces the line's inputs (``--seed``; by default every file gets fresh random
inputs); ``warning`` is empty unless the code ran in the weak sandbox (``--allow-weak-sandbox``). A file is
accepted only when it passes analysis, runs in the sandbox and is correct. Exit status: 0 when every file is
accepted, 1 when any is rejected, 2 when a file cannot be read or the judge cannot run here.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rewrite.cli_run import run_command
from runtime.rewards.coding_tasks import CODING_TASKS, get_coding_task
from runtime.rewards.completion_code import extract_python_code
from runtime.rewards.evaluation import evaluate


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``reward-check`` subcommand to a CLI's subparsers; its ``func`` returns the exit status."""
    parser = subparsers.add_parser(
        "reward-check", help="judge code files with the task's static analysis, sandbox and checks",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    return parser


def run_reward_check(args: argparse.Namespace) -> int:
    """Judge ``args.files`` for ``args.task``, print one JSON line each, return the exit status. Where the
    judge cannot run (no sandbox, no analysis) its ``RewardsError`` propagates: ``run_command`` prints it and
    exits 2."""
    unreadable = [path for path in args.files if not path.is_file()]
    if unreadable:
        print(f"reward-check: cannot read {', '.join(map(str, unreadable))}; pass existing code files",
              file=sys.stderr)
        return 2
    task = get_coding_task(args.task)
    if args.allow_weak_sandbox:
        task = dataclasses.replace(task, limits=dataclasses.replace(task.limits, allow_weak_sandbox=True))
    all_accepted = True
    for path in args.files:
        source = extract_python_code(path.read_text(encoding="utf-8", errors="replace"))
        evaluation = evaluate(source, task, seed=args.seed)
        all_accepted &= evaluation.accepted
        print(json.dumps({
            "file": str(path),
            "verdict": evaluation.verdict,
            "stage": evaluation.stage,
            "rules": list(evaluation.rules),
            "score": round(evaluation.speedup, 3),
            "findings": [str(finding) for finding in evaluation.findings],
            "seed": evaluation.seed,
            "warning": evaluation.warning,
        }), flush=True)
    return 0 if all_accepted else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``reward-check`` on its own: ``python -m runtime.rewards.check_command --task matmul FILE...``."""
    parser = argparse.ArgumentParser(prog="python -m runtime.rewards.check_command", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(parser)
    args = parser.parse_args(argv)
    return run_command(parser.prog, args)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", required=True, choices=sorted(CODING_TASKS),
                        help="the coding task the code is written for")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random test inputs, to reproduce "
                        "a verdict (default: fresh randomness for each file; each line gives its seed)")
    parser.add_argument("--allow-weak-sandbox", action="store_true", help="where the OS sandbox cannot be "
                        "set up (no bubblewrap, no user namespaces), judge with weak in-process protections "
                        "instead of refusing; every verdict then carries a warning")
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="Python files (or markdown with a "
                        "python code block)")
    parser.set_defaults(func=run_reward_check)


if __name__ == "__main__":
    sys.exit(main())
