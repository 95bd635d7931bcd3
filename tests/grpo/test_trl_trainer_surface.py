"""The TRL / transformers Trainer surface of GRPOTrainer beyond training: callbacks added later, TrainOutput's
fields, TRL's reward metric names, and what it refuses by name."""

from __future__ import annotations

import math

import pytest
import torch
from transformers import TrainerCallback

from runtime.grpo.errors import GRPOUnsupportedError
from runtime.grpo.scoring import reward_metrics
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset


class CountsSteps(TrainerCallback):
    def __init__(self):
        self.steps = 0

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1


@pytest.fixture
def trainer(lora_checkpoint, tmp_path):
    return GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path, max_steps=1),
                       train_dataset=toy_dataset())


def test_callbacks_added_after_construction_hear_the_run_and_train_returns_trainoutputs_fields(trainer):
    counter = CountsSteps()
    trainer.add_callback(counter)
    trainer.add_callback(CountsSteps)
    removed = trainer.pop_callback(CountsSteps)
    assert removed is counter
    result = trainer.train()
    assert [record["step"] for record in result] == [1]
    assert result.global_step == 1 and result.training_loss == result[0]["loss"]
    assert result.metrics["train_loss"] == result.training_loss and result.metrics["train_runtime"] > 0
    assert counter.steps == 0 and trainer.events.callbacks[0].steps == 1
    assert trainer.is_world_process_zero()


def test_the_accelerator_answers_what_trl_scripts_ask_of_it(trainer, capsys):
    trainer.accelerator.print("Training completed.")
    assert capsys.readouterr().out == "Training completed.\n"
    assert (trainer.accelerator.is_main_process, trainer.accelerator.process_index,
            trainer.accelerator.num_processes) == (True, 0, 1)
    assert trainer.accelerator.unwrap_model(trainer.model) is trainer.model
    with pytest.raises(GRPOUnsupportedError, match="trainer.accelerator has no 'backward': .*only print"):
        getattr(trainer.accelerator, "backward")  # noqa: B009 (the attribute read is what is tested)


@pytest.mark.parametrize(("name", "advice"), [
    ("push_to_hub", "upload output_dir"),
    ("log_metrics", "OUTPUT_DIR/log.jsonl and trainer.state.log_history"),
])
def test_trainer_attributes_we_do_not_have_say_what_to_use(trainer, name, advice):
    with pytest.raises(GRPOUnsupportedError, match=f"GRPOTrainer has no '{name}': .*{advice}"):
        getattr(trainer, name)
    assert not hasattr(trainer, name)


@pytest.mark.parametrize(("argument", "advice"), [
    ("quantization_config", "rewrite build --quantize nf4"),
    ("tools", "tool calling during generation is not implemented"),
    ("rollout_func", "shape completions in a reward function"),
])
def test_trls_trainer_arguments_we_cannot_honour_are_refused_by_name(lora_checkpoint, tmp_path, argument, advice):
    with pytest.raises(GRPOUnsupportedError, match=f"does not support {argument}=.*{advice}"):
        GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path), train_dataset=toy_dataset(),
                    **{argument: object()})


def test_reward_metrics_have_trls_names_and_batch_statistics():
    per_func = torch.tensor([[1.0, math.nan], [3.0, 2.0], [5.0, 4.0], [5.0, math.nan]])
    rewards = torch.tensor([1.0, 5.0, 9.0, 5.0])
    metrics = reward_metrics(per_func, rewards, ["a", "b"], num_generations=2)
    assert metrics["reward"] == 5.0
    assert metrics["reward_std"] == pytest.approx(torch.tensor([1.0, 5.0, 9.0, 5.0]).std().item())
    assert metrics["rewards/b/mean"] == 3.0 and metrics["rewards/b/std"] == pytest.approx(2 ** 0.5)
    assert metrics["frac_reward_zero_std"] == 0.0
