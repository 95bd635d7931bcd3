"""How every entry point of the `rewrite` command ends: our errors as one line on stderr, not a traceback."""

from __future__ import annotations

import argparse
import sys

from .errors import RewriteError, RunInterrupted

ERROR_STATUS = 2
INTERRUPTED_STATUS = 130


def run_command(prog: str, args: argparse.Namespace) -> int:
    """The exit status of `args.func(args)`. A `RewriteError` is printed as `PROG: error: MESSAGE` and
    exits 2; Ctrl-C exits 130 (with the message of a `RunInterrupted`, which says how to go on)."""
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED_STATUS
    except RunInterrupted as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return INTERRUPTED_STATUS
    except RewriteError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return ERROR_STATUS
