"""``reward-check``: one JSON line per file, exit status 0 only when every file is accepted."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from runtime.rewards import check_command

PROGRAMS = Path(__file__).parent / "programs"
HONEST = PROGRAMS / "honest" / "ikj_row_accumulate.py"
CHEAT = PROGRAMS / "cheat" / "import_numpy.py"
KEYS = {"file", "verdict", "stage", "rules", "score", "findings", "seed", "warning"}


def test_prints_one_verdict_per_file_and_fails_when_any_is_rejected(capsys):
    assert check_command.main(["--task", "matmul", str(HONEST), str(CHEAT)]) == 1
    honest, cheat = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert set(honest) == KEYS and set(cheat) == KEYS
    assert (honest["verdict"], honest["stage"], honest["rules"]) == ("accept", "ok", [])
    assert honest["score"] > 0
    assert (cheat["verdict"], cheat["stage"], cheat["rules"], cheat["score"]) == (
        "reject", "static", ["import-outside-allowlist"], 0.0)
    assert honest["warning"] == "" and honest["seed"] != cheat["seed"], "fresh inputs for every file"


def test_a_seed_reproduces_a_verdicts_inputs(capsys):
    assert check_command.main(["--task", "matmul", str(HONEST)]) == 0
    [first] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert check_command.main(["--task", "matmul", "--seed", str(first["seed"]), str(HONEST)]) == 0
    [again] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert again["seed"] == first["seed"] and again["verdict"] == "accept"


def test_succeeds_when_every_file_is_accepted(capsys):
    assert check_command.main(["--task", "matmul", str(HONEST)]) == 0


def test_unreadable_file_is_a_usage_error(tmp_path, capsys):
    assert check_command.main(["--task", "matmul", str(tmp_path / "missing.py")]) == 2
    assert "missing.py" in capsys.readouterr().err


def test_registers_as_a_subcommand_of_a_larger_cli():
    parser = argparse.ArgumentParser(prog="rewrite")
    check_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["reward-check", "--task", "matmul", str(CHEAT)])
    assert args.func(args) == 1


def test_runs_as_a_module():
    completed = subprocess.run([sys.executable, "-m", "runtime.rewards.check_command", "--task", "matmul", str(CHEAT)],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1 and json.loads(completed.stdout)["verdict"] == "reject"


def test_every_hostile_file_gets_a_verdict_line(tmp_path, capsys):
    fence = tmp_path / "unterminated_fence.md"
    fence.write_text("Here it is:\n```python\n" + "x = 1\n" * 30_000)  # the old fence regex backtracked on this
    nul = tmp_path / "nul_bytes.py"
    nul.write_bytes(b"def matmul(A, B):\n    return A\x00\n")
    hostile = [PROGRAMS / "cheat" / name for name in (
        "or_chain_8000.py", "quadratic_rebinding.py", "import_time_infinite_loop.py", "memory_bomb.py",
        "huge_result.py")] + [fence, nul]
    assert check_command.main(["--task", "matmul", *map(str, hostile)]) == 1
    verdicts = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [verdict["file"] for verdict in verdicts] == [str(path) for path in hostile]
    assert {verdict["verdict"] for verdict in verdicts[2:]} == {"reject"}
