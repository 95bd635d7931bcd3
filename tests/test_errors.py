"""One error root: every exception type the project defines is a `RewriteError`, and every command reports one as
a single line with exit status 2, never a traceback."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from rewrite.cli import main
from rewrite.errors import RewriteError
from runtime.rewards import SandboxError

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("rewrite", "runtime", "passes")
HONEST = ROOT / "tests" / "rewards" / "programs" / "honest" / "ikj_row_accumulate.py"


def defined_exception_types() -> list[type[BaseException]]:
    """Every class defined at module level in the packages that is an exception (warnings aside)."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            classes = [node for node in ast.parse(path.read_text()).body if isinstance(node, ast.ClassDef)]
            if not any(_may_be_exception(base) for node in classes for base in node.bases):
                continue  # importing every module would import the whole toolkit
            names = [node.name for node in classes]
            module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
            found += [cls for name in names if isinstance(cls := getattr(module, name), type)
                      and issubclass(cls, BaseException) and not issubclass(cls, Warning)]
    return found


def _may_be_exception(base: ast.expr) -> bool:
    name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
    return name.endswith(("Error", "Exception", "Interrupted", "Interrupt", "Exit"))


def test_every_exception_type_of_the_project_derives_from_rewrite_error():
    exception_types = defined_exception_types()
    assert len(exception_types) > 10, "the scan found the error modules"
    outside = [f"{cls.__module__}.{cls.__qualname__}" for cls in exception_types if not issubclass(cls, RewriteError)]
    assert outside == []


def test_input_errors_are_value_errors_under_the_root():
    from rewrite.errors import GenerationError, InputError, SinkAttentionInputError

    for cls in (InputError, GenerationError, SinkAttentionInputError):
        assert issubclass(cls, RewriteError) and issubclass(cls, ValueError)


@pytest.mark.parametrize("command", ["rewrite reward-check", "python -m runtime.rewards.check_command"])
def test_reward_check_reports_a_sandbox_failure_in_one_line_with_exit_status_two(command, monkeypatch, capsys):
    from runtime.rewards import check_command

    def failing_launch(*args, **kwargs):
        raise SandboxError("bubblewrap did not start the sandbox: no such file; install bubblewrap")

    monkeypatch.setattr("runtime.rewards.sandbox.launch_sandbox", failing_launch)
    argv = ["--task", "matmul", str(HONEST)]
    status = main(["reward-check", *argv]) if command.startswith("rewrite") else check_command.main(argv)
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"{command}: error: bubblewrap did not start the sandbox: no such file; install bubblewrap\n")
    assert "Traceback" not in captured.err
