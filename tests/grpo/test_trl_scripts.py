"""TRL GRPO scripts (tests/grpo/trl_scripts/, each written for `trl` 1.16) run on the tiny preset after changing
only their import line: the port path of `from runtime.grpo import GRPOConfig, GRPOTrainer`.

Each script takes the model directory and the output directory as its arguments and asserts what it relies on.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "trl_scripts"
TRL_IMPORT = "from trl import GRPOConfig, GRPOTrainer\n"
OUR_IMPORT = "from runtime.grpo import GRPOConfig, GRPOTrainer\n"
PORTED = ["quickstart", "conversational_system", "many_rewards", "peft_all_linear", "peft_list_modules_to_save",
          "eval_split", "resume", "train_output", "list_dataset_kwargs", "callable_rewards", "early_stopping_callback",
          "epochs_eval_epoch", "resume_path", "peft_regex_targets", "eval_dict", "model_object_tokenizer",
          "docs_reward_examples", "hf_argument_parser", "trl_parser_yaml", "evaluate_standalone",
          "completion_length_curriculum", "model_save_pretrained", "json_files_map"]


def run_ported(name: str, model_dir: Path, output_dir: Path, monkeypatch) -> None:
    """Run script `name` with its TRL import line swapped for ours, in this process."""
    text = (SCRIPTS / f"{name}.py").read_text()
    assert text.count(TRL_IMPORT) == 1, f"{name}.py must import GRPOConfig and GRPOTrainer from trl on one line"
    ported = output_dir.parent / f"{name}_ported.py"
    ported.write_text(text.replace(TRL_IMPORT, OUR_IMPORT))
    monkeypatch.setattr(sys, "argv", [str(ported), str(model_dir), str(output_dir)])
    runpy.run_path(str(ported), run_name="__main__")


@pytest.mark.parametrize("name", PORTED)
def test_a_trl_script_runs_after_changing_only_its_import(name, lora_checkpoint, tmp_path, monkeypatch):
    output_dir = tmp_path / "run"
    run_ported(name, lora_checkpoint, output_dir, monkeypatch)
    records = [json.loads(line) for line in (output_dir / "log.jsonl").read_text().splitlines()]
    assert records and "reward" in records[-1] and "loss" in records[-1]


def test_trls_own_grpo_script_shape_runs(lora_checkpoint, tmp_path, monkeypatch):
    run_ported("trl_parser", lora_checkpoint, tmp_path / "run", monkeypatch)
