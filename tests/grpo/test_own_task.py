"""Training on your own task: a TRL script with only its import changed, and `rewrite train --dataset`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from peft import PeftModel
from transformers import GptOssForCausalLM

from rewrite.transformers_model import transformers_model

REPOSITORY = Path(__file__).resolve().parents[2]

REWARD_MODULE = '''
def reward(prompts, completions, topic, trainer_state, **kwargs):
    return [float(len(completion[0]["content"]) % 3) + (topic[0] == "sea") for completion in completions]
'''


def fresh_shell(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(arguments, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600)


def test_a_trl_script_runs_after_changing_its_import_and_its_adapter_loads_on_transformers(lora_checkpoint,
                                                                                           tmp_path):
    script = REPOSITORY / "examples" / "grpo_own_task.py"
    assert "from runtime.grpo import GRPOConfig, GRPOTrainer  # with TRL: from trl import" in script.read_text()
    result = fresh_shell([sys.executable, str(script), str(lora_checkpoint), str(tmp_path / "run"), "2"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [1, 2]
    assert {"rewards/word_count_reward/mean", "rewards/brevity_reward/mean"} <= set(records[-1])
    assert (tmp_path / "run" / "completions.jsonl").is_file() and (tmp_path / "run" / "tensorboard").is_dir()
    base = transformers_model(lora_checkpoint, dtype=torch.float32)
    adapted = PeftModel.from_pretrained(base, tmp_path / "run")
    assert isinstance(adapted.get_base_model(), GptOssForCausalLM)
    assert any("lora_A" in name for name, _ in adapted.named_parameters())


def test_rewrite_train_takes_a_dataset_file_and_a_reward_module_from_the_working_directory(lora_checkpoint,
                                                                                           tmp_path):
    (tmp_path / "mymodule.py").write_text(REWARD_MODULE)
    rows = [{"prompt": [{"role": "user", "content": text}], "topic": topic}
            for text, topic in [("Describe the sea.", "sea"), ("Name a prime.", "math")] * 4]
    (tmp_path / "data.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    result = fresh_shell([sys.executable, "-m", "rewrite", "train", "--checkpoint", str(lora_checkpoint),
                          "--dataset", "data.jsonl", "--reward-funcs", "mymodule:reward", "--steps", "3",
                          "--out", "R", "--per-device-train-batch-size", "4", "--num_generations", "2",
                          "--max-completion-length", "8", "--learning_rate", "1e-3"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in (tmp_path / "R" / "log.jsonl").read_text().splitlines()]
    assert [record["step"] for record in records] == [1, 2, 3] and "rewards/reward/mean" in records[-1]
    assert records[0]["learning_rate"] > 0


def test_a_dataset_without_reward_functions_is_refused_with_what_to_pass(lora_checkpoint, tmp_path, capsys):
    from rewrite.cli import main

    (tmp_path / "data.jsonl").write_text(json.dumps({"prompt": "hi"}) + "\n")
    assert main(["train", "--checkpoint", str(lora_checkpoint), "--dataset", str(tmp_path / "data.jsonl"),
                 "--out", str(tmp_path / "R")]) == 2
    assert "--dataset needs --reward-funcs MODULE:FUNCTION" in capsys.readouterr().err


def test_a_missing_reward_module_is_named(lora_checkpoint, tmp_path, capsys):
    from rewrite.cli import main

    (tmp_path / "data.jsonl").write_text(json.dumps({"prompt": "hi"}) + "\n")
    assert main(["train", "--checkpoint", str(lora_checkpoint), "--dataset", str(tmp_path / "data.jsonl"),
                 "--reward-funcs", "nosuchmodule:reward", "--out", str(tmp_path / "R")]) == 2
    assert "nosuchmodule" in capsys.readouterr().err
