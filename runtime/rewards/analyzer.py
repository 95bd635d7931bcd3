"""Static analysis of untrusted code, isolated: the rules run in a limited subprocess, never in this one.

``analyze_many`` starts one worker interpreter (``python -I``, see ``runtime.rewards.analysis_worker``) for
a batch of sources, gives each source a wall-clock limit (the worker also has CPU-time and memory limits from
the kernel), and kills the worker at the end. A source on which the worker dies or runs out of time gets a
reject verdict (``analysis-crashed``, ``analysis-timeout``) and the worker is started afresh for the rest:
whatever the source, the caller gets a verdict, never an exception or a hang. Source longer than the
analysis accepts is rejected (``too-long``) without starting anything.

Verdicts depend only on the source and the allowlist, so the last ones are remembered (a failure's too, so
that the same code keeps its verdict): each distinct program is analysed once per process, however many
rewards, evaluations or commands ask.
"""

from __future__ import annotations

import hashlib
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from runtime.rewards.errors import CodingTaskConfigError, RewardsError
from runtime.rewards.sandbox_process import signal_name
from runtime.rewards.static_analysis import MAX_SOURCE_CHARS, parse_for_analysis
from runtime.rewards.verdict import ANALYSIS_CRASHED_RULE, ANALYSIS_TIMEOUT_RULE, Finding, Verdict

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
"""The directory that holds the ``runtime`` package, put first on the worker's ``sys.path``."""
WORKER_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv[1]); "
                    "from runtime.rewards.analysis_worker import main; main(int(sys.argv[2]))")
REMEMBERED_VERDICTS = 4096
"""How many verdicts are kept (keyed by a hash of the source and the allowlist)."""


class AnalysisUnavailableError(RewardsError):
    """The analysis worker could not be started at all (not a problem of the code being judged)."""


@dataclass(frozen=True)
class AnalysisLimits:
    """What the isolated analysis may use."""

    seconds_per_source: float = 10.0
    """Wall-clock and CPU time for one source."""
    start_seconds: float = 60.0
    """Wall-clock time for the worker to start (import the analysis) before it counts as unavailable."""
    memory_bytes: int = 1 << 30
    """Address space of the worker."""


def analyze(source: str, allowed_modules: Iterable[str]) -> Verdict:
    """The verdict of the rules on ``source`` for a task that allows importing ``allowed_modules``,
    computed in an isolated worker (see ``analyze_many``)."""
    return analyze_many([source], allowed_modules)[0]


def analyze_many(
    sources: Sequence[str], allowed_modules: Iterable[str], limits: AnalysisLimits = AnalysisLimits()
) -> list[Verdict]:
    """Verdicts for ``sources``, in order, analysed in one isolated worker (each distinct source once).

    Never raises because of a source. Raises ``AnalysisUnavailableError`` when the worker cannot start, and
    ``CodingTaskConfigError`` when an allowlisted module cannot be imported."""
    allowed = frozenset(allowed_modules)
    keys = [_key(source, allowed) for source in sources]
    verdicts = {key: verdict for key in keys if (verdict := _VERDICTS.get(key)) is not None}
    missing: dict[bytes, str] = {}
    for key, source in zip(keys, sources, strict=True):
        if key not in verdicts and len(source) > MAX_SOURCE_CHARS:
            verdicts[key] = Verdict((parse_for_analysis(source),))
        elif key not in verdicts:
            missing.setdefault(key, source)
    for key, verdict in zip(missing, _analyse_isolated(list(missing.values()), allowed, limits), strict=True):
        verdicts[key] = verdict
    for key in keys:
        _VERDICTS.put(key, verdicts[key])
    return [verdicts[key] for key in keys]


def _analyse_isolated(sources: list[str], allowed: frozenset[str], limits: AnalysisLimits) -> list[Verdict]:
    verdicts: list[Verdict] = []
    while len(verdicts) < len(sources):
        verdicts.extend(_run_worker(sources[len(verdicts):], allowed, limits))
    return verdicts


def _run_worker(sources: list[str], allowed: frozenset[str], limits: AnalysisLimits) -> list[Verdict]:
    """Verdicts for a prefix of ``sources`` (at least one): the worker stops at the first it dies or
    times out on, which gets the failure's verdict."""
    request = {"allowed_modules": sorted(allowed), "sources": sources,
               "cpu_seconds": limits.seconds_per_source}
    with tempfile.TemporaryFile() as request_file, tempfile.TemporaryFile() as error_file:
        request_file.write(json.dumps(request).encode("ascii"))
        request_file.seek(0)
        try:
            process = subprocess.Popen(
                [sys.executable, "-I", "-c", WORKER_BOOTSTRAP, str(PACKAGE_ROOT), str(limits.memory_bytes)],
                stdin=request_file, stdout=subprocess.PIPE, stderr=error_file, close_fds=True,
            )
        except OSError as error:
            raise AnalysisUnavailableError(f"cannot start the analysis worker {sys.executable!r}: {error}; "
                                           "check that Python can be executed from this process") from error
        replies = _LineReader(process.stdout)
        try:
            if replies.next_line(limits.start_seconds) != b"ready":
                raise AnalysisUnavailableError(
                    f"the analysis worker was not ready within {limits.start_seconds} s "
                    f"({_tail(error_file)}); check that `{sys.executable} -I` can import runtime.rewards")
            verdicts = []
            for _ in sources:
                line = replies.next_line(limits.seconds_per_source)
                if line is None or line == b"":
                    verdicts.append(_failure_verdict(process, line is None, limits))
                    break
                verdicts.append(_decode(line))
            return verdicts
        finally:
            process.kill()
            process.wait()
            replies.close()
            process.stdout.close()


def _decode(line: bytes) -> Verdict:
    try:
        reply = json.loads(line)
    except ValueError:
        reply = None
    if isinstance(reply, dict) and "error" in reply:
        raise CodingTaskConfigError(str(reply["error"]))
    if isinstance(reply, dict) and isinstance(reply.get("findings"), list):
        try:
            return Verdict(tuple(Finding(str(rule), int(line), int(column), str(message))
                                 for rule, line, column, message in reply["findings"]))
        except (TypeError, ValueError):
            pass
    why = str(reply.get("crashed", "")) if isinstance(reply, dict) else ""
    why = why or "an unreadable reply"
    return _verdict(ANALYSIS_CRASHED_RULE, f"the analysis of this code failed ({why}); write plainer code")


def _failure_verdict(process: subprocess.Popen, timed_out: bool, limits: AnalysisLimits) -> Verdict:
    if not timed_out:
        try:
            process.wait(timeout=limits.seconds_per_source)
        except subprocess.TimeoutExpired:
            pass
    if timed_out or process.returncode == -signal.SIGXCPU:
        return _verdict(ANALYSIS_TIMEOUT_RULE, f"the analysis of this code took more than "
                                               f"{limits.seconds_per_source} s; write plainer, shorter code")
    returncode = process.returncode
    why = (f"killed by {signal_name(-returncode)}" if returncode is not None and returncode < 0
           else f"exit status {returncode}")
    return _verdict(ANALYSIS_CRASHED_RULE, f"the analysis of this code crashed ({why}); write plainer code")


def _verdict(rule: str, message: str) -> Verdict:
    return Verdict((Finding(rule, 1, 0, message),))


def _tail(error_file: BinaryIO) -> str:
    error_file.seek(0)
    text = error_file.read().decode("utf-8", "replace").strip()
    return text[-500:] if text else "it printed nothing"


class _LineReader:
    """Lines from a pipe, each awaited at most a given time."""

    def __init__(self, stream: BinaryIO) -> None:
        self._descriptor = stream.fileno()
        self._buffer = bytearray()
        self._selector = selectors.DefaultSelector()
        self._selector.register(stream, selectors.EVENT_READ)

    def next_line(self, seconds: float) -> bytes | None:
        """The next line without its newline; ``b""`` at the end of the stream, None after ``seconds``."""
        deadline = time.monotonic() + seconds
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._selector.select(remaining):
                return None
            chunk = os.read(self._descriptor, 1 << 16)
            if not chunk:
                return b""
            self._buffer += chunk
        line, _, rest = bytes(self._buffer).partition(b"\n")
        self._buffer = bytearray(rest)
        return line

    def close(self) -> None:
        self._selector.close()


class _VerdictMemo:
    """The most recently used verdicts, by key; safe to use from several threads."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[bytes, Verdict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Verdict | None:
        with self._lock:
            verdict = self._entries.get(key)
            if verdict is not None:
                self._entries.move_to_end(key)
            return verdict

    def put(self, key: bytes, verdict: Verdict) -> None:
        with self._lock:
            self._entries[key] = verdict
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


def _key(source: str, allowed: frozenset[str]) -> bytes:
    allowlist = "\0".join(sorted(allowed)).encode("utf-8")
    return hashlib.sha256(allowlist + b"\xff" + source.encode("utf-8", "surrogatepass")).digest()


_VERDICTS = _VerdictMemo(REMEMBERED_VERDICTS)
