"""The parent owns what decides a reward: the inputs (sent one call at a time), the clock (the kernel's count
of the child's CPU time, read from outside) and the checks. Code that has escaped Python's restrictions can
forge replies, rewrite every clock it sees and walk every frame, and still scores no better than honest
code."""

from __future__ import annotations

import dataclasses

import pytest
from sandbox_escape import escaping
from timing_noise import holds_in_one_of_a_few

from runtime.rewards import SandboxJob, SandboxLimits, Verdict, evaluate, run_in_sandbox

LIMITS = SandboxLimits(wall_seconds=5.0, cpu_seconds=3.0, memory_bytes=512 << 20)
FORGE = '''
    import json, os, sys

    def forge(reply):
        """Write ``reply`` as an answer to the request in flight (its id read from the runner's frame) to
        every descriptor."""
        frame, request_id = sys._getframe(), 0
        while frame is not None:
            request = frame.f_locals.get("request")
            if isinstance(request, dict) and "id" in request:
                request_id = request["id"]
            frame = frame.f_back
        line = (json.dumps({"id": request_id, **reply}) + "\\n").encode()
        for descriptor in range(3, 64):
            try:
                os.write(descriptor, line)
            except OSError:
                pass
'''
HONEST_MATMUL = """
    def honest_matmul(A, B):
        return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]
"""


def run(source: str, calls, check=None):
    return run_in_sandbox(SandboxJob(source, "f", calls, frozenset({"typing"}), check=check), LIMITS)


def test_a_forged_timing_is_a_malformed_reply():
    outcome = run(escaping(FORGE, '''
        def escaped(n):
            forge({"status": "ok", "output": 2 * n, "seconds": 1e-06})
            return 2 * n
    '''), [(1,), (2,)])
    assert outcome.status == "crashed" and "malformed" in outcome.error and outcome.calls == ()


def test_a_forged_early_reply_is_checked_like_any_other():
    outcome = run(escaping(FORGE, '''
        def escaped(n):
            forge({"status": "ok", "output": 0})  # answer at once, before computing
            return 2 * n
    '''), [(1,), (2,)], check=lambda index, output: output == 2 * (index + 1))
    assert outcome.status == "incorrect" and outcome.calls[0].output == 0


def test_a_reply_nobody_asked_for_ends_the_run():
    outcome = run(escaping(FORGE, '''
        def escaped(n):
            forge({"status": "ok", "output": 2 * n})  # the right answer, sent twice
            return 2 * n
    '''), [(1,), (2,)])
    assert outcome.status == "crashed" and len(outcome.calls) == 1
    assert "not asked for" in outcome.error or "had not been sent" in outcome.error


def test_rewritten_clocks_do_not_change_the_parents_timing():
    outcome = run(escaping('''
        import time

        def escaped(seconds):
            real_clock = time.process_time
            for name in ("perf_counter", "process_time", "monotonic", "time", "thread_time"):
                setattr(time, name, lambda: 0.0)
            start = real_clock()
            while real_clock() - start < seconds:
                pass
            return time.perf_counter()
    '''), [(0.3,)])
    assert outcome.ok and outcome.calls[0].output == 0.0 and outcome.calls[0].seconds >= 0.3


def test_the_code_never_holds_a_future_input():
    markers = [f"input-{index}" for index in range(4)]
    outcome = run(escaping('''
        import gc, os, re, sys

        def visible_markers():
            """Every input marker this process can see: its frames, every tracked object, its pipes."""
            seen = set()

            def note(value):
                if isinstance(value, (str, bytes, bytearray)):
                    text = value if isinstance(value, str) else bytes(value).decode("latin-1")
                    seen.update(re.findall(r"input-[0-9]+", text))

            frame = sys._getframe()
            while frame is not None:
                for value in frame.f_locals.values():
                    note(value)
                frame = frame.f_back
            for container in gc.get_objects():
                for value in (container.values() if isinstance(container, dict) else
                              container if isinstance(container, (list, tuple, set)) else ()):
                    note(value)
            for descriptor in range(64):
                try:
                    blocking = os.get_blocking(descriptor)
                    os.set_blocking(descriptor, False)
                    try:
                        note(os.read(descriptor, 1 << 16))
                    finally:
                        os.set_blocking(descriptor, blocking)
                except OSError:
                    pass
            return sorted(seen)

        def escaped(marker):
            return visible_markers()
    '''), [(marker,) for marker in markers])
    assert outcome.ok, outcome.error
    for index, call in enumerate(outcome.calls):
        assert markers[index] in call.output and set(call.output) <= set(markers[:index + 1]), call.output


@pytest.mark.parametrize("cheat", ["forge", "clock"])
def test_cheating_matmul_scores_no_better_than_the_honest_one(cheat, quick_matmul, monkeypatch):
    monkeypatch.setattr("runtime.rewards.evaluation.analyze", _accept_everything)  # so the cheat is run
    cheat_payload = {
        "forge": (FORGE, HONEST_MATMUL, '''
            def escaped(A, B):
                forge({"status": "ok", "output": [[0.0]]})
                return honest_matmul(A, B)
        '''),
        "clock": (HONEST_MATMUL, '''
            import time

            def escaped(A, B):
                time.perf_counter = time.process_time = lambda: 0.0
                return honest_matmul(A, B)
        '''),
    }[cheat]
    honest_payload = (HONEST_MATMUL, "escaped = honest_matmul")
    # calls long enough (milliseconds) that timing noise on a loaded machine stays well inside the factor 2
    task = dataclasses.replace(quick_matmul, benchmark_shape=(40, 40, 40), benchmark_loops=5)
    cheating_source, honest_source = (escaping(*payload).replace("def f(", "def matmul(")
                                      for payload in (cheat_payload, honest_payload))

    def cheat_gains_under_twice_the_honest_speed() -> bool:
        cheating, honest = evaluate(cheating_source, task, seed=1), evaluate(honest_source, task, seed=1)
        assert honest.accepted, honest.findings
        return not cheating.accepted or cheating.speedup < 2 * honest.speedup

    assert holds_in_one_of_a_few(cheat_gains_under_twice_the_honest_speed)


def _accept_everything(source, allowed_modules):
    return Verdict(())


@pytest.mark.parametrize("status", [128 + 35, 128 + 40, 255])
def test_an_exit_status_that_reads_as_an_unnamed_signal_is_a_crash_not_an_exception(status):
    outcome = run(escaping(f'''
        import os

        def escaped():
            os._exit({status})
    '''), [()])
    assert outcome.status == "crashed" and f"signal {status - 128}" in outcome.error


def test_a_reply_written_one_byte_at_a_time_is_read_whole():
    outcome = run(escaping('''
        import json, os, sys

        def escaped():
            frame = sys._getframe()
            while "replies" not in frame.f_locals:  # the runner's main
                frame = frame.f_back
            request, replies = frame.f_locals["request"], frame.f_locals["replies"].fileno()
            line = (json.dumps({"id": request["id"], "status": "ok", "output": [0.5] * 2000}) + "\\n").encode()
            for index in range(len(line)):
                os.write(replies, line[index:index + 1])
            os._exit(0)
    '''), [()])
    assert outcome.calls and outcome.calls[0].output == [0.5] * 2000, outcome
