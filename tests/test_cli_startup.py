"""The `rewrite` command answers --help without importing torch, and prints no third-party warnings."""

from __future__ import annotations

import subprocess
import sys


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_the_parser_of_every_command_is_built_without_torch_transformers_or_peft():
    result = run_python(
        "import sys\n"
        "from rewrite.cli import build_parser\n"
        "parser = build_parser()\n"
        "for command in ('build', 'train', 'generate', 'export', 'reward-check'):\n"
        "    try:\n"
        "        parser.parse_args([command, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = sorted(name for name in ('torch', 'transformers', 'peft', 'bitsandbytes', 'datasets')"
        " if name in sys.modules)\n"
        "print(heavy, file=sys.stderr)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "[]"
    assert "--reward-funcs" in result.stdout and "--reasoning-effort" in result.stdout


def test_rewrite_help_prints_no_warning():
    result = subprocess.run([sys.executable, "-m", "rewrite", "--help"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "train" in result.stdout
    assert result.stderr == ""


def test_importing_the_trainer_prints_no_bitsandbytes_warning():
    result = run_python("import rewrite\nimport runtime.grpo.trainer\n")
    assert result.returncode == 0, result.stderr
    assert "kernels-community" not in result.stderr
