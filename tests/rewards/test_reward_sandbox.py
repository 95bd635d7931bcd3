"""The sandbox holds on its own: these run code straight in it, with static analysis bypassed and a
generous module allowlist (os, signal, time), and the parent comes out unharmed."""

from __future__ import annotations

import os
import time

import pytest

from runtime.rewards import SandboxJob, SandboxLimits, run_in_sandbox

TIGHT = SandboxLimits(wall_seconds=2.0, cpu_seconds=1.0, memory_bytes=256 << 20)
GENEROUS_ALLOWLIST = frozenset({"os", "signal", "time", "math"})
MARGIN_SECONDS = 2.0


def run(source: str, calls=((),), allowed=GENEROUS_ALLOWLIST, limits=TIGHT):
    """Run ``source``'s ``f`` in the sandbox; return the outcome and the wall time the parent waited."""
    start = time.monotonic()
    outcome = run_in_sandbox(SandboxJob(source, "f", calls, allowed, cache_wipe_bytes=1 << 16), limits)
    return outcome, time.monotonic() - start


@pytest.fixture(autouse=True)
def parent_stays_unharmed():
    directory, clock, children = os.getcwd(), time.perf_counter, _child_processes()
    yield
    assert os.getcwd() == directory and time.perf_counter is clock
    assert _child_processes() == children, "a sandboxed process outlived its run"


def _child_processes() -> set[int]:
    path = f"/proc/{os.getpid()}/task/{os.getpid()}/children"
    return set(map(int, open(path).read().split())) if os.path.exists(path) else set()


def test_infinite_loop_is_stopped_by_the_cpu_limit():
    outcome, seconds = run("def f():\n    while True:\n        pass\n")
    assert outcome.status == "timeout" and seconds < TIGHT.cpu_seconds + MARGIN_SECONDS


def test_sleeper_that_ignores_sigterm_is_killed_at_the_wall_clock_limit():
    source = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              "def f():\n    while True:\n        time.sleep(1)\n")
    outcome, seconds = run(source)
    assert outcome.status == "timeout" and TIGHT.wall_seconds <= seconds < TIGHT.wall_seconds + MARGIN_SECONDS


def test_memory_bomb_hits_the_memory_limit():
    outcome, seconds = run("def f():\n    hoard = []\n    while True:\n        hoard.append(bytearray(32 << 20))\n")
    assert outcome.status == "error" and "MemoryError" in outcome.error and seconds < TIGHT.wall_seconds


def test_fork_bomb_cannot_start_a_process():
    outcome, _ = run("import os\ndef f():\n    while True:\n        os.fork()\n")
    assert outcome.status == "error" and "os.fork" in outcome.error


def test_os_exit_ends_only_the_sandboxed_process():
    outcome, _ = run("import os\ndef f():\n    os._exit(0)\n")
    assert outcome.status == "crashed" and "before reporting" in outcome.error


def test_writes_outside_the_sandbox_directory_are_refused(tmp_path):
    target = tmp_path / "pwned.txt"
    source = (f"import os\ndef f():\n    fd = os.open({str(target)!r}, os.O_CREAT | os.O_WRONLY)\n"
              "    os.write(fd, b'pwned')\n")
    outcome, _ = run(source)
    assert outcome.status == "error" and "PermissionError" in outcome.error
    assert not target.exists()


def test_processes_and_shell_commands_are_refused():
    outcome, _ = run("import os\ndef f():\n    return os.system('true')\n")
    assert outcome.status == "error" and "os.system" in outcome.error


def test_restricted_builtins_lack_open_eval_exec_and_namespaces():
    for name in ("open", "eval", "exec", "compile", "globals", "locals", "vars", "input", "breakpoint"):
        outcome, _ = run(f"def f():\n    return {name}\n")
        assert outcome.status == "error" and "NameError" in outcome.error, name


def test_imports_outside_the_allowlist_fail_however_written():
    for body in ("import json", "__import__('json')", "from os import path"):
        outcome, _ = run(f"def f():\n    {body}\n")
        assert outcome.status == "error" and "ImportError" in outcome.error, body


def test_the_sandbox_has_an_empty_environment_and_a_fresh_directory():
    outcome, _ = run("import os\ndef f():\n    return ['PATH' in os.environ, 'HOME' in os.environ, os.getcwd()]\n")
    has_path, has_home, directory = outcome.calls[0].output
    assert not has_path and not has_home
    assert directory != os.getcwd() and os.path.basename(directory).startswith("reward-sandbox-")


def test_every_call_gets_fresh_inputs():
    outcome, _ = run("def f(items):\n    items.append(0)\n    return len(items)\n", calls=[([1, 2],)] * 3)
    assert [call.output for call in outcome.calls] == [3, 3, 3]


def test_results_come_back_as_plain_data_only():
    outcome, _ = run("def f():\n    return ((1, 2.5), [True, None, 'x'])\n")
    assert outcome.calls[0].output == [[1, 2.5], [True, None, "x"]]
    for lazy in ("class L(list):\n    pass\ndef f():\n    return L([1.0])\n", "def f():\n    return map(float, [1])\n"):
        outcome, _ = run(lazy)
        assert outcome.status == "error" and "plain" in outcome.error


def test_printed_fake_reports_do_not_reach_the_parent():
    source = ("def f():\n    print('{\"status\": \"ok\", \"calls\": [{\"seconds\": 0, \"output\": 42}]}')\n"
              "    return 7\n")
    outcome, _ = run(source)
    assert outcome.calls[0].output == 7


def test_main_guard_does_not_run_in_the_sandbox():
    outcome, _ = run("if __name__ == '__main__':\n    raise ValueError\ndef f():\n    return __name__\n")
    assert outcome.calls[0].output == "submission"


def test_errors_name_the_line_in_the_submission():
    outcome, _ = run("def f():\n    x = 1\n    raise ValueError('bad')\n")
    assert outcome.status == "error" and outcome.line == 3 and "ValueError: bad" in outcome.error


def test_each_call_is_timed():
    outcome, _ = run("def f(n):\n    return sum(range(n))\n", calls=[(10,), (100000,)])
    assert outcome.ok and 0 < outcome.calls[0].seconds < outcome.calls[1].seconds
