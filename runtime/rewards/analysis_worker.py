"""The child side of the isolated analysis: analyse the sources the parent sends, one verdict line each.

Started by ``runtime.rewards.analyzer`` as ``python -I -c BOOTSTRAP ROOT MEMORY_BYTES`` with the request on
stdin. It lowers its own limits (address space, no core file, small files), imports the analysis, writes the
line ``ready``, reads the request ``{"allowed_modules": [...], "sources": [...], "cpu_seconds": s}`` and
answers each source in order with one JSON line: ``{"findings": [[rule, line, column, message], ...]}``,
``{"crashed": why}`` when the analysis itself failed on it, or ``{"error": message}`` when the task's
allowlist is broken. Before each source it lets its CPU-time limit grow by ``s`` seconds, so that the kernel
stops a source that needs more. The sources are only parsed and compiled, never run.
"""

from __future__ import annotations

import json
import math
import resource
import sys

_LARGEST_FILE_BYTES = 1 << 20
"""Bound on what the worker may write to a file (its stderr is one)."""


def main(memory_bytes: int) -> None:
    _limit_resources(memory_bytes)
    from runtime.rewards.errors import RewardsError
    from runtime.rewards.static_analysis import analyze_in_process

    _write("ready")
    request = json.load(sys.stdin)
    for source in request["sources"]:
        _allow_more_cpu(request["cpu_seconds"])
        try:
            verdict = analyze_in_process(source, request["allowed_modules"])
            reply = {"findings": [[f.rule, f.line, f.column, f.message] for f in verdict.findings]}
        except RewardsError as error:
            reply = {"error": str(error)}
        except (MemoryError, RecursionError, Exception) as error:  # any failure on this source is its verdict
            reply = {"crashed": f"{type(error).__name__}: {error}"[:300]}
        _write(json.dumps(reply))


def _limit_resources(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (_LARGEST_FILE_BYTES, _LARGEST_FILE_BYTES))


def _allow_more_cpu(seconds: float) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _write(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
