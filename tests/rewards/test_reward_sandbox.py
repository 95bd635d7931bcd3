"""The sandbox's contract: limits, plain-data results, one call at a time, timing by the parent. These run
code straight in the real OS sandbox, with static analysis bypassed and a generous module allowlist (os,
signal, time), and check that the parent comes out unharmed."""

from __future__ import annotations

import os
import time

import pytest

from runtime.rewards import SandboxError, SandboxJob, SandboxLimits, run_in_sandbox

TIGHT = SandboxLimits(wall_seconds=2.0, cpu_seconds=1.0, memory_bytes=256 << 20)
GENEROUS_ALLOWLIST = frozenset({"os", "signal", "time", "math"})
MARGIN_SECONDS = 2.0


def run(source: str, calls=((),), allowed=GENEROUS_ALLOWLIST, limits=TIGHT, check=None):
    """Run ``source``'s ``f`` in the sandbox; return the outcome and the wall time the parent waited."""
    start = time.monotonic()
    outcome = run_in_sandbox(SandboxJob(source, "f", calls, allowed, check=check), limits)
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
    outcome, seconds = run("def f():\n    while True:\n        pass\n", limits=SandboxLimits(cpu_seconds=1.0))
    assert outcome.status == "timeout" and "CPU" in outcome.error and seconds < 1.0 + MARGIN_SECONDS


def test_sleeper_that_ignores_sigterm_is_killed_at_the_wall_clock_limit():
    source = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
              "def f():\n    while True:\n        time.sleep(1)\n")
    outcome, seconds = run(source)
    assert outcome.status == "timeout" and TIGHT.wall_seconds <= seconds < TIGHT.wall_seconds + MARGIN_SECONDS


def test_memory_bomb_hits_the_memory_limit():
    outcome, seconds = run("def f():\n    hoard = []\n    while True:\n"
                           "        hoard.append(bytearray(32 << 20))\n")
    assert outcome.status == "error" and "MemoryError" in outcome.error and seconds < TIGHT.wall_seconds


def test_fork_bomb_cannot_start_a_process():
    outcome, _ = run("import os\ndef f():\n    while True:\n        os.fork()\n")
    assert outcome.status == "error" and "PermissionError" in outcome.error


def test_os_exit_ends_only_the_sandboxed_process():
    outcome, _ = run("import os\ndef f():\n    os._exit(0)\n")
    assert outcome.status == "crashed" and "before replying" in outcome.error


def test_writes_outside_the_sandbox_directory_do_not_reach_the_host(tmp_path):
    target = tmp_path / "pwned.txt"
    source = (f"import os\ndef f():\n    fd = os.open({str(target)!r}, os.O_CREAT | os.O_WRONLY)\n"
              "    os.write(fd, b'pwned')\n")
    outcome, _ = run(source)
    assert outcome.status == "error" and "Error" in outcome.error
    assert not target.exists()


def test_shell_commands_cannot_run():
    outcome, _ = run("import os\ndef f():\n    return os.system('true')\n")
    assert outcome.ok and outcome.calls[0].output != 0


def test_restricted_builtins_lack_open_eval_exec_and_namespaces():
    for name in ("open", "eval", "exec", "compile", "globals", "locals", "vars", "input", "breakpoint"):
        outcome, _ = run(f"def f():\n    return {name}\n")
        assert outcome.status == "error" and "NameError" in outcome.error, name


def test_imports_outside_the_allowlist_fail_however_written():
    for body in ("import json", "__import__('json')", "from os import path"):
        outcome, _ = run(f"def f():\n    {body}\n")
        assert outcome.status == "error" and ("ImportError" in outcome.error
                                              or "ModuleNotFoundError" in outcome.error), body


def test_the_sandbox_has_an_empty_environment_and_a_private_empty_directory():
    outcome, _ = run("import os\ndef f():\n    return [sorted(os.environ), os.getcwd(), os.listdir('.')]\n")
    variables, directory, files = outcome.calls[0].output
    assert set(variables) <= {"PWD", "LC_CTYPE"}, "only what bubblewrap and Python's locale coercion set"
    assert (directory, files) == ("/tmp", [])


def test_every_call_gets_fresh_inputs():
    outcome, _ = run("def f(items):\n    items.append(0)\n    return len(items)\n", calls=[([1, 2],)] * 3)
    assert [call.output for call in outcome.calls] == [3, 3, 3]


def test_results_come_back_as_plain_data_only():
    outcome, _ = run("def f():\n    return ((1, 2.5), [True, None, 'x'])\n")
    assert outcome.calls[0].output == [[1, 2.5], [True, None, "x"]]
    for lazy in ("class L(list):\n    pass\ndef f():\n    return L([1.0])\n",
                 "def f():\n    return map(float, [1])\n", "def f():\n    return {'a': 1}\n"):
        outcome, _ = run(lazy)
        assert outcome.status == "error" and "plain" in outcome.error


def test_printed_fake_replies_do_not_reach_the_parent():
    source = "def f():\n    print('{\"status\": \"ok\", \"output\": 42}', flush=True)\n    return 7\n"
    outcome, _ = run(source)
    assert outcome.calls[0].output == 7


def test_main_guard_does_not_run_in_the_sandbox():
    outcome, _ = run("if __name__ == '__main__':\n    raise ValueError\ndef f():\n    return __name__\n")
    assert outcome.calls[0].output == "submission"


def test_errors_name_the_line_in_the_submission():
    outcome, _ = run("def f():\n    x = 1\n    raise ValueError('bad')\n")
    assert outcome.status == "error" and outcome.line == 3 and "ValueError: bad" in outcome.error


def test_code_that_fails_to_load_is_an_error_with_its_line():
    outcome, _ = run("x = 1\ndef f(:\n    pass\n")
    assert outcome.status == "error" and outcome.line == 2 and "SyntaxError" in outcome.error
    outcome, _ = run("def g():\n    pass\n")
    assert outcome.status == "error" and "'f'" in outcome.error


def test_each_call_is_timed_by_the_parent_in_cpu_and_wall_seconds():
    outcome, _ = run("def f(n):\n    return sum(range(n))\n", calls=[(10,), (3_000_000,)])
    short, long = outcome.calls
    assert outcome.ok and 0 < short.seconds < long.seconds and 0 < short.wall_seconds < long.wall_seconds
    assert long.seconds > 0.01


def test_sleeping_costs_wall_time_not_cpu_time():
    outcome, _ = run("import time\ndef f():\n    time.sleep(0.3)\n")
    assert outcome.calls[0].wall_seconds >= 0.3 > 10 * outcome.calls[0].seconds


def test_a_wrong_output_stops_the_run_at_once():
    outcome, _ = run("def f(n):\n    return n if n < 2 else -1\n", calls=[(0,), (1,), (2,), (3,)],
                     check=lambda index, output: output == index)
    assert outcome.status == "incorrect" and [call.output for call in outcome.calls] == [0, 1, -1]


def test_an_interpreter_that_cannot_start_is_a_sandbox_error_that_says_why():
    with pytest.raises(SandboxError, match="did not start.*memory_bytes"):
        run("def f():\n    return 1\n", limits=SandboxLimits(memory_bytes=1 << 20))
