"""Where the OS sandbox cannot be set up, the judge refuses with a message that says what to install or
enable, unless the weak sandbox is allowed, which then warns with every verdict."""

from __future__ import annotations

import dataclasses
import json

import pytest

from runtime.rewards import (
    SandboxJob,
    SandboxLimits,
    SandboxUnavailableError,
    WeakSandboxWarning,
    check_command,
    evaluate,
    run_in_sandbox,
)
from runtime.rewards.sandbox_availability import os_sandbox

JOB = SandboxJob("def f(n):\n    return n + 1\n", "f", [(1,)], frozenset())
FORK = SandboxJob("import os\ndef f():\n    os.fork()\n", "f", [()], frozenset({"os"}))
HONEST = "def matmul(A, B):\n    return [[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]\n"


@pytest.fixture()
def no_bubblewrap(monkeypatch):
    monkeypatch.setattr("runtime.rewards.sandbox_command.BWRAP", "no-such-bwrap")


def test_this_machine_has_the_os_sandbox():
    assert os_sandbox().endswith("bwrap")


def test_without_bubblewrap_the_sandbox_refuses_and_says_what_to_do(no_bubblewrap):
    with pytest.raises(SandboxUnavailableError, match="apt-get install bubblewrap") as refusal:
        run_in_sandbox(JOB)
    assert "--allow-weak-sandbox" in str(refusal.value) and "allow_weak_sandbox=True" in str(refusal.value)


def test_the_weak_sandbox_runs_with_a_warning_when_allowed(no_bubblewrap):
    with pytest.warns(WeakSandboxWarning):
        outcome = run_in_sandbox(JOB, SandboxLimits(allow_weak_sandbox=True))
    assert outcome.ok and outcome.calls[0].output == 2 and "weak" not in outcome.error
    assert "OS sandbox" in outcome.warning


def test_the_weak_sandbox_keeps_the_audit_hook(no_bubblewrap):
    with pytest.warns(WeakSandboxWarning):
        outcome = run_in_sandbox(FORK, SandboxLimits(allow_weak_sandbox=True))
    assert outcome.status == "error" and "os.fork is not allowed" in outcome.error


def test_the_os_sandbox_carries_no_warning():
    outcome = run_in_sandbox(JOB, SandboxLimits(allow_weak_sandbox=True))
    assert outcome.ok and outcome.warning == ""


def test_a_weak_verdict_carries_the_warning(no_bubblewrap, quick_matmul):
    weak_limits = dataclasses.replace(quick_matmul.limits, allow_weak_sandbox=True)
    task = dataclasses.replace(quick_matmul, limits=weak_limits)
    with pytest.warns(WeakSandboxWarning):
        evaluation = evaluate(HONEST, task)
    assert evaluation.accepted and evaluation.warning


def test_reward_check_refuses_without_a_traceback(no_bubblewrap, tmp_path, capsys):
    program = tmp_path / "honest.py"
    program.write_text(HONEST)
    assert check_command.main(["--task", "matmul", str(program)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "apt-get install bubblewrap" in captured.err
    assert "Traceback" not in captured.err


def test_reward_check_judges_weakly_when_allowed_and_says_so_on_every_line(no_bubblewrap, tmp_path, capsys):
    program = tmp_path / "honest.py"
    program.write_text(HONEST)
    with pytest.warns(WeakSandboxWarning):
        status = check_command.main(["--task", "matmul", "--allow-weak-sandbox", str(program), str(program)])
    assert status == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 2 and all(line["verdict"] == "accept" and line["warning"] for line in lines)
