"""Several processes (torchrun, gloo on the CPU): N processes train the adapter that one process trains with N times
the gradient accumulation, with or without a sharded base (--fsdp); a sharded base generates what an unsharded one
does, one layer at a time, with processes stopping at different steps; --fsdp trains a preset with no checkpoint,
no process holding a whole unit; a failing rank stops the run; a checkpoint of two processes resumes on one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rewrite.cli import main
from rewrite.tensor_files import read_tensor_file
from runtime.grpo.run_log import read_log
from tests.grpo.raising_reward_run import FAILURE_MESSAGE

REPOSITORY = Path(__file__).resolve().parents[2]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
STEPS = 3
# Generous for two cold processes on two busy cores; a hang would wait for the 30-minute collective timeout.
RUN_TIMEOUT_SECONDS = 120
LOGPROB_TOLERANCE = 1e-5
"""float32 rounding: a gathered shard is the same weight at another address, and the CPU's BLAS may take another
path over it (an AMD EPYC here differs by 1.9e-6 where CI's machine agrees exactly); the tokens must be identical."""
LOGGED_METRICS = ("reward", "reward_std", "loss", "grad_norm", "completion_tokens", "clip_ratio/region_mean")


def train_arguments(checkpoint: Path, output_dir: Path, *extra: str) -> list[str]:
    """The even-tokens task's tiny run: 2 prompts x 4 completions of 8 tokens per process and step, a checkpoint
    after every step."""
    return ["train", "--checkpoint", str(checkpoint), "--task", "even-tokens", "--steps", str(STEPS), "--seed", "0",
            "--out", str(output_dir), "--save-steps", "1", *extra]


def torchrun(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([*TORCHRUN, *arguments], cwd=REPOSITORY, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_SECONDS)


def adapter(output_dir: Path, step: int) -> dict[str, torch.Tensor]:
    return read_tensor_file(output_dir / f"checkpoint-{step}" / "adapter_model.safetensors")


def assert_same_adapters(actual: Path, expected: Path, steps=range(1, STEPS + 1)) -> None:
    for step in steps:
        expected_adapter, actual_adapter = adapter(expected, step), adapter(actual, step)
        assert actual_adapter.keys() == expected_adapter.keys()
        for name, tensor in expected_adapter.items():
            torch.testing.assert_close(actual_adapter[name], tensor, atol=1e-6, rtol=1e-5, msg=f"step {step} {name}")


@pytest.fixture(scope="module")
def one_process_run(lora_checkpoint, tmp_path_factory) -> Path:
    """The reference: one process, two micro-batches per step."""
    output_dir = tmp_path_factory.mktemp("one-process")
    assert main(train_arguments(lora_checkpoint, output_dir, "--gradient-accumulation-steps", "2")) == 0
    assert any(tensor.abs().max() > 0 for name, tensor in adapter(output_dir, 1).items() if "lora_B" in name), \
        "the first step moved the adapters, so the comparisons below compare something"
    return output_dir


@pytest.fixture(scope="module")
def two_process_run(lora_checkpoint, tmp_path_factory) -> Path:
    output_dir = tmp_path_factory.mktemp("two-processes")
    result = torchrun("-m", "rewrite", *train_arguments(lora_checkpoint, output_dir))
    assert result.returncode == 0, result.stderr[-4000:]
    return output_dir


def test_two_processes_train_the_adapter_of_one_process_with_twice_the_accumulation(one_process_run, two_process_run):
    assert_same_adapters(two_process_run, one_process_run)
    one, two = read_log(one_process_run / "log.jsonl"), read_log(two_process_run / "log.jsonl")
    assert [record["step"] for record in two] == [1, 2, 3], "rank 0 alone writes the log"
    for one_record, two_record in zip(one, two, strict=True):
        for metric in LOGGED_METRICS:
            assert two_record[metric] == pytest.approx(one_record[metric], rel=1e-5, abs=1e-7), metric
    assert (two_process_run / "reward_curve.png").is_file()


def test_a_sharded_base_trains_the_same_adapter(lora_checkpoint, one_process_run, tmp_path):
    result = torchrun("-m", "rewrite", *train_arguments(lora_checkpoint, tmp_path, "--fsdp"))
    assert result.returncode == 0, result.stderr[-4000:]
    assert_same_adapters(tmp_path, one_process_run)


def rank_results(output_dir: Path) -> list[dict]:
    return [json.loads((output_dir / f"rank{rank}.json").read_text()) for rank in range(2)]


def test_a_sharded_base_generates_the_tokens_of_an_unsharded_one_layer_by_layer_in_lockstep(lora_checkpoint, tmp_path):
    result = torchrun(str(REPOSITORY / "tests" / "grpo" / "sharded_generation_run.py"), str(lora_checkpoint),
                      str(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]
    early, late = rank_results(tmp_path)
    for rank in (early, late):
        assert rank["same_sequences"] and rank["same_completion_mask"] and rank["logprobs_error"] <= LOGPROB_TOLERANCE
        assert rank["most_units_whole"] == 1, "FSDP gathers one unit around each call and frees it after"
    assert early["generated"] == 3 and late["generated"] == 40
    assert early["calls"]["reference"] == 16, "alone, rank 0 stops at the first stop check"
    assert early["calls"]["sharded"] == late["calls"]["sharded"] == 40, "the ranks decode in lockstep"


def test_a_sharded_preset_trains_without_a_checkpoint_and_no_process_holds_a_whole_unit(lora_checkpoint, tmp_path):
    result = torchrun(str(REPOSITORY / "tests" / "grpo" / "sharded_preset_run.py"), str(lora_checkpoint),
                      str(tmp_path))
    assert result.returncode == 0, result.stderr[-4000:]
    ranks = rank_results(tmp_path)
    for rank in ranks:
        assert rank["steps"] == [1] and rank["loss_is_finite"]
        assert len(rank["rows"]) == 1 + 4 * 17, "the embedding and the 17 tensors of each of the 4 layers"
        for name, (held, whole) in rank["rows"].items():
            assert held == whole // 2, f"{name}: holds {held} of {whole} rows"
        assert rank["same_as_one_process"], "each row is drawn as one process draws it"
        assert rank["same_rotary_as_build"], "RoPE's inv_freq is computed, not drawn"
        assert rank["whole_tensors"] == 2, "lm_head and the final norm are whole on every process"
    assert ranks[0]["whole_checksum"] == ranks[1]["whole_checksum"]


def test_a_rank_that_raises_stops_every_rank_with_its_message(lora_checkpoint, tmp_path):
    started = time.monotonic()
    result = torchrun(str(REPOSITORY / "tests" / "grpo" / "raising_reward_run.py"), str(lora_checkpoint),
                      str(tmp_path))
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"ConnectionError: {FAILURE_MESSAGE}" in output
    root_cause = output.partition("Root Cause (first observed failure)")[2]
    assert "rank      : 1 (local_rank: 1)" in root_cause, "torchrun names the failing rank"
    print(f"the failing run ended in {time.monotonic() - started:.0f} s")
    assert not list(tmp_path.glob("checkpoint-*"))


def test_a_two_process_checkpoint_resumes_on_one_process(lora_checkpoint, two_process_run, tmp_path, capsys):
    killed = tmp_path / "killed"
    shutil.copytree(two_process_run, killed)
    shutil.rmtree(killed / f"checkpoint-{STEPS}")  # as if killed during the last step

    assert main(train_arguments(lora_checkpoint, killed, "--resume")) == 2
    assert "gradient_accumulation_steps * processes: 2 in the checkpoint, 1 now" in capsys.readouterr().err

    assert main(train_arguments(lora_checkpoint, killed, "--resume", "--gradient-accumulation-steps", "2")) == 0
    assert_same_adapters(killed, two_process_run, steps=[STEPS])
    assert [record["step"] for record in read_log(killed / "log.jsonl")] == [1, 2, 3]
