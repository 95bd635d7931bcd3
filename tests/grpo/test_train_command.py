"""`rewrite train`: the tiny target-token run learns, a SIGKILLed run resumes exactly, bad requests are refused."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from statistics import mean

import pytest
import torch

from rewrite.cli import build_parser, main
from rewrite.tensor_files import read_tensor_file
from runtime.grpo.checkpoints import list_checkpoints
from runtime.grpo.run_log import read_log
from runtime.grpo.tasks import get_task
from runtime.grpo.train_command import task_config

REPOSITORY = Path(__file__).resolve().parents[2]
# 2 prompts x 8 completions of up to 16 tokens per step: enough target tokens that the adapter moves.
SMALL_RUN = ["--per-device-train-batch-size", "16", "--learning-rate", "0.02", "--lora-r", "4", "--lora-alpha", "8",
             "--save-steps", "1", "--save-total-limit", "none"]


def train_arguments(checkpoint, output_dir, *extra: str) -> list[str]:
    return ["train", "--checkpoint", str(checkpoint), "--task", "target-token", "--steps", "8", "--seed", "0",
            "--out", str(output_dir), *SMALL_RUN, *extra]


@pytest.mark.parametrize("quantize", [
    [], ["--quantize", "nf4"],
    ["--quantize", "mxfp4", "--lora-target-parameters", "mlp.experts.gate_up_proj", "mlp.experts.down_proj"],
], ids=["float32", "nf4", "mxfp4-expert-lora"])
def test_forty_steps_on_the_tiny_preset_raise_the_target_token_reward(tmp_path, quantize):
    started = time.perf_counter()
    arguments = ["train", "--preset", "tiny", "--task", "target-token", "--steps", "40", "--seed", "0",
                 "--out", str(tmp_path), *quantize]
    assert main(arguments) == 0
    rewards = [record["reward"] for record in read_log(tmp_path / "log.jsonl")]
    print(f"first 5 steps {mean(rewards[:5]):.3f}, last 5 {mean(rewards[-5:]):.3f}, "
          f"{time.perf_counter() - started:.0f} s with the build")
    assert len(rewards) == 40
    assert mean(rewards[-5:]) >= mean(rewards[:5]) + 0.2
    assert (tmp_path / "base" / "manifest.json").is_file()
    assert [path.name for path in list_checkpoints(tmp_path)] == ["checkpoint-30", "checkpoint-40"], \
        "the task keeps the newest two (save_steps 10, save_total_limit 2)"


def test_a_sigkilled_run_resumed_ends_with_the_uninterrupted_adapter(lora_checkpoint, tmp_path):
    assert main(train_arguments(lora_checkpoint, tmp_path / "whole")) == 0
    killed = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "rewrite", *train_arguments(lora_checkpoint, killed)],
                               cwd=REPOSITORY, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (killed / "checkpoint-2").exists():
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no checkpoint within two minutes"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert list_checkpoints(killed)[-1].name != "checkpoint-8", "killed before the end"

    assert main([*train_arguments(lora_checkpoint, killed), "--resume"]) == 0

    uninterrupted = read_tensor_file(tmp_path / "whole" / "checkpoint-8" / "adapter_model.safetensors")
    resumed = read_tensor_file(killed / "checkpoint-8" / "adapter_model.safetensors")
    assert any(name.endswith("lora_B.weight") and tensor.abs().max() > 0 for name, tensor in resumed.items()), \
        "the adapter moved away from its initialisation"
    for name, tensor in uninterrupted.items():
        torch.testing.assert_close(resumed[name], tensor, atol=1e-7, rtol=1e-6, msg=name)
    assert [record["step"] for record in read_log(killed / "log.jsonl")] == list(range(1, 9))


def test_an_output_dir_holding_another_run_is_refused(lora_checkpoint, tmp_path, capsys):
    assert main([*train_arguments(lora_checkpoint, tmp_path), "--steps", "1"]) == 0
    assert main([*train_arguments(lora_checkpoint, tmp_path), "--steps", "1", "--learning-rate", "0.5"]) == 2
    message = capsys.readouterr().err
    assert "rewrite train: error:" in message and "learning_rate: 0.02 in the checkpoint, 0.5 now" in message
    assert "--force" in message


def test_a_checkpoint_dir_that_is_not_ours_is_refused(tmp_path, capsys):
    assert main(train_arguments(tmp_path, tmp_path / "out")) == 2
    assert "is not a gpt-oss-rewrite checkpoint" in capsys.readouterr().err


def test_an_unknown_task_is_refused_with_the_known_ones(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["train", "--preset", "tiny", "--task", "sorting", "--out", str(tmp_path)])
    message = capsys.readouterr().err
    assert "argument --task: invalid choice: 'sorting'" in message and "target-token" in message


def test_options_override_the_tasks_settings_which_override_the_config_defaults():
    args = build_parser().parse_args(["train", "--preset", "tiny", "--task", "target-token", "--out", "runs/x",
                                      "--steps", "3", "--learning-rate", "0.5", "--no-gradient-checkpointing"])
    config = task_config(get_task("target-token"), args)
    assert (config.max_steps, config.learning_rate, config.output_dir) == (3, 0.5, "runs/x")
    assert config.max_completion_length == get_task("target-token").config_defaults["max_completion_length"]
    assert (config.beta, config.loss_type) == (0.0, "dapo")
