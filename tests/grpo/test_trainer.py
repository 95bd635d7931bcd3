"""GRPOTrainer: a run logs every step, checkpoints adapters that transformers loads, and follows TRL's semantics."""

from __future__ import annotations

import pytest
import torch
from peft import PeftModel
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from transformers import GptOssForCausalLM

from runtime.grpo.run_log import read_log
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import TARGET_TOKEN, even_token_reward, tiny_config, toy_dataset

LOGGED_FIELDS = {
    "step", "reward", "reward_std", "frac_reward_zero_std", "rewards/even_token_reward/mean",
    "rewards/even_token_reward/std", "loss", "kl", "clip_ratio/low_mean", "clip_ratio/high_mean",
    "clip_ratio/region_mean", "clip_ratio/low_min", "clip_ratio/high_max", "completions/mean_length",
    "completions/min_length", "completions/max_length", "completions/clipped_ratio",
    "completions/mean_terminated_length", "completions/min_terminated_length", "completions/max_terminated_length",
    "completion_tokens",
    "tokens_per_second", "peak_memory_bytes", "learning_rate", "grad_norm", "elapsed_seconds", "epoch",
}


@pytest.fixture(scope="module")
def finished_run(lora_checkpoint, tmp_path_factory):
    """Three steps of a tiny run, checkpointed at steps 2 and 3."""
    output_dir = tmp_path_factory.mktemp("run")
    trainer = GRPOTrainer(str(lora_checkpoint), even_token_reward, train_dataset=toy_dataset(),
                          args=tiny_config(output_dir, max_steps=3, save_steps=2))
    return trainer, output_dir, trainer.train()


def lora_gradients(trainer: GRPOTrainer) -> dict[str, torch.Tensor]:
    """The gradients of one step's micro-batches, accumulated as `training_step` does, before the optimizer."""
    batch = trainer.generate_and_score(1)
    trainer.model.train()
    for micro_batch in batch.micro_batches(trainer.args.gradient_accumulation_steps):
        trainer.compute_loss(micro_batch)[0].backward()
    return {name: parameter.grad.clone() for name, parameter in trainer.model.named_parameters()
            if parameter.requires_grad}


def test_log_jsonl_has_one_record_per_step_with_every_field(finished_run):
    _, output_dir, records = finished_run
    logged = read_log(output_dir / "log.jsonl")
    assert [record["step"] for record in logged] == [1, 2, 3]
    for record in logged:
        assert set(record) == LOGGED_FIELDS
    assert logged[0]["kl"] is None, "beta == 0 computes no reference log-probs, so no KL"
    assert logged[-1]["elapsed_seconds"] > logged[0]["elapsed_seconds"] > 0
    assert logged[0]["peak_memory_bytes"] > 0
    assert [record["reward"] for record in logged] == [record["reward"] for record in records]


def test_tensorboard_events_and_the_reward_curve_are_written(finished_run):
    _, output_dir, _ = finished_run
    events = EventAccumulator(str(output_dir / "tensorboard"))
    events.Reload()
    assert [event.step for event in events.Scalars("reward")] == [1, 2, 3]
    assert (output_dir / "reward_curve.png").read_bytes().startswith(b"\x89PNG")


def test_checkpoints_are_written_at_save_steps_and_at_the_end(finished_run):
    _, output_dir, _ = finished_run
    assert sorted(path.name for path in output_dir.glob("checkpoint-*")) == ["checkpoint-2", "checkpoint-3"]
    assert {"adapter_config.json", "adapter_model.safetensors", "train_state", "scheduler.pt", "trainer_state.json",
            "grpo_config.json"} <= {path.name for path in (output_dir / "checkpoint-3").iterdir()}


def test_the_checkpointed_adapter_loads_on_the_transformers_model(finished_run, lora_checkpoint):
    trainer, output_dir, _ = finished_run
    hf = PeftModel.from_pretrained(GptOssForCausalLM.from_pretrained(lora_checkpoint), output_dir / "checkpoint-3")
    ids = torch.randint(3, 512, (2, 10), generator=torch.Generator().manual_seed(0))
    trainer.model.eval()
    with torch.no_grad():
        ours = trainer.rewritten(ids)
        torch.testing.assert_close(hf.eval()(ids).logits, ours, atol=1e-4, rtol=0)
        with hf.disable_adapter():
            assert (hf(ids).logits - ours).abs().max() > 1e-4, "three steps moved the adapter"


def test_old_log_probs_are_recomputed_only_with_several_iterations(lora_checkpoint, tmp_path):
    one_pass = GRPOTrainer(str(lora_checkpoint), even_token_reward, train_dataset=toy_dataset(),
                           args=tiny_config(tmp_path / "one"))
    batch = one_pass.generate_and_score(1)
    assert batch.old_per_token_logps is None and batch.ref_per_token_logps is None

    two_passes = GRPOTrainer(str(lora_checkpoint), even_token_reward, train_dataset=toy_dataset(),
                             args=tiny_config(tmp_path / "two", num_iterations=2, beta=0.04))
    batch = two_passes.generate_and_score(1)
    assert batch.old_per_token_logps.shape == batch.completion_mask.shape
    # LoRA starts as the identity (B = 0), so the reference (adapters disabled) equals the policy
    torch.testing.assert_close(batch.ref_per_token_logps, batch.old_per_token_logps)


@pytest.mark.parametrize("loss_type", ["dapo", "grpo", "dr_grpo"])
def test_two_accumulated_micro_batches_give_the_gradient_of_one_batch(lora_checkpoint, tmp_path, loss_type):
    def gradients(batch_size, accumulation):
        config = tiny_config(tmp_path / f"{batch_size}", loss_type=loss_type, per_device_train_batch_size=batch_size,
                             gradient_accumulation_steps=accumulation)
        return lora_gradients(
            GRPOTrainer(str(lora_checkpoint), even_token_reward, train_dataset=toy_dataset(), args=config)
        )

    whole, accumulated = gradients(8, 1), gradients(4, 2)
    assert any(gradient.abs().max() > 0 for gradient in whole.values())
    for name, gradient in whole.items():
        torch.testing.assert_close(accumulated[name], gradient, atol=1e-7, rtol=1e-4, msg=name)


def test_the_target_token_task_rewards_the_fraction_of_target_tokens():
    (reward,) = TARGET_TOKEN.reward_funcs
    assert reward(prompts=[[3], [3], [3]], completions=None, completion_ids=[[7, 7, 5, 1], [4], []]) == [0.5, 0.0, 0.0]


def test_the_target_token_dataset_is_a_pure_function_of_the_seed():
    assert toy_dataset(seed=0) == toy_dataset(seed=0) != toy_dataset(seed=1)
    prompts = [row["prompt"] for row in toy_dataset()]
    assert all(4 <= len(prompt) <= 12 and all(3 <= token < 512 for token in prompt) for prompt in prompts)
