"""Resuming: the newest complete checkpoint continues the run exactly; a directory never mixes two runs."""

from __future__ import annotations

import shutil

import pytest
import torch

from rewrite.tensor_files import read_tensor_file
from runtime.grpo import GRPOOutputDirError
from runtime.grpo.run_log import read_log
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset


def trainer_for(checkpoint, config) -> GRPOTrainer:
    return GRPOTrainer(str(checkpoint), even_token_reward, train_dataset=toy_dataset(), args=config)


def adapter(checkpoint_dir) -> dict[str, torch.Tensor]:
    return read_tensor_file(checkpoint_dir / "adapter_model.safetensors")


@pytest.fixture(scope="module")
def one_step_run(lora_checkpoint, tmp_path_factory):
    output_dir = tmp_path_factory.mktemp("one-step")
    trainer_for(lora_checkpoint, tiny_config(output_dir, max_steps=1)).train()
    return output_dir


def test_resuming_inside_a_generation_batch_ends_with_the_uninterrupted_adapter(lora_checkpoint, tmp_path):
    config = tiny_config(tmp_path, max_steps=4, save_steps=1, num_iterations=2)
    trainer_for(lora_checkpoint, config).train()
    uninterrupted = adapter(tmp_path / "checkpoint-4")
    assert (tmp_path / "checkpoint-3" / "generation_batch.pt").is_file(), "step 4 trains on step 3's batch again"
    assert not (tmp_path / "checkpoint-2" / "generation_batch.pt").exists()
    # as if killed while saving step 4: checkpoint-3 is the newest complete one, beside a half-written one
    shutil.rmtree(tmp_path / "checkpoint-4")
    (tmp_path / ".checkpoint-4.partial").mkdir()
    (tmp_path / ".checkpoint-4.partial" / "adapter_model.safetensors").write_bytes(b"half")

    records = trainer_for(lora_checkpoint, config).train(resume_from_checkpoint=True)

    assert [record["step"] for record in records] == [4]
    assert not (tmp_path / ".checkpoint-4.partial").exists()
    resumed = adapter(tmp_path / "checkpoint-4")
    for name, tensor in uninterrupted.items():
        torch.testing.assert_close(resumed[name], tensor, atol=1e-7, rtol=1e-6, msg=name)
    assert [record["step"] for record in read_log(tmp_path / "log.jsonl")] == [1, 2, 3, 4]


def test_resuming_where_no_checkpoint_exists_yet_starts_at_step_zero(lora_checkpoint, tmp_path):
    records = trainer_for(lora_checkpoint, tiny_config(tmp_path, max_steps=1)).train(resume_from_checkpoint=True)
    assert [record["step"] for record in records] == [1]


def test_starting_again_over_the_same_run_asks_for_resume_or_force(lora_checkpoint, one_step_run):
    with pytest.raises(GRPOOutputDirError, match="holds checkpoints of this run up to checkpoint-1: pass --resume"):
        trainer_for(lora_checkpoint, tiny_config(one_step_run, max_steps=1)).train()


def test_starting_over_another_runs_checkpoints_names_what_differs(lora_checkpoint, one_step_run):
    other = tiny_config(one_step_run, max_steps=1, learning_rate=0.02)
    with pytest.raises(GRPOOutputDirError) as refusal:
        trainer_for(lora_checkpoint, other).train()
    assert "holds checkpoints of another run (learning_rate: 0.01 in the checkpoint, 0.02 now)" in str(refusal.value)
    assert "--force" in str(refusal.value)
    with pytest.raises(GRPOOutputDirError, match="belongs to a different run"):
        trainer_for(lora_checkpoint, other).train(resume_from_checkpoint=True)


def test_force_deletes_the_other_runs_outputs_and_starts_over(lora_checkpoint, tmp_path):
    trainer_for(lora_checkpoint, tiny_config(tmp_path, max_steps=2, save_steps=1)).train()
    records = trainer_for(lora_checkpoint, tiny_config(tmp_path, max_steps=1, learning_rate=0.02)).train(
        overwrite_output_dir=True
    )
    assert [record["step"] for record in read_log(tmp_path / "log.jsonl")] == [1] == [r["step"] for r in records]
    assert sorted(path.name for path in tmp_path.glob("checkpoint-*")) == ["checkpoint-1"]
