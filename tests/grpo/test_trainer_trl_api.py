"""GRPOTrainer takes TRL's arguments, calls rewards with TRL's keywords, and tells callbacks what TRL's does."""

from __future__ import annotations

import asyncio
import logging

import pytest
from peft import LoraConfig
from transformers import TrainerCallback

from runtime.grpo import GRPOConfig
from runtime.grpo.errors import GRPOConfigError, GRPOInputError, GRPOInterrupted, GRPORewardError
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset


def test_a_dataset_in_the_config_slot_is_explained(lora_checkpoint):
    with pytest.raises(GRPOConfigError, match="It looks like a dataset: GRPOTrainer takes .model, reward_funcs, args"):
        GRPOTrainer(str(lora_checkpoint), even_token_reward, toy_dataset())


def test_rewards_receive_trl_keywords_and_none_means_no_reward(lora_checkpoint, tmp_path):
    seen = {}

    def reward(prompts, completions, completion_ids, trainer_state, log_extra, log_metric, **columns):
        seen.update(state=trainer_state, columns=columns)
        log_metric("custom/score", 2.0)
        log_extra("note", ["n"] * len(completions))
        return [None] * (len(completions) - 1) + [1.0]

    dataset = [{**row, "topic": f"t{index}"} for index, row in enumerate(toy_dataset())]
    trainer = GRPOTrainer(str(lora_checkpoint), [reward, even_token_reward], args=tiny_config(tmp_path),
                          train_dataset=dataset)
    batch = trainer.generate_and_score(1)
    assert seen["state"] is trainer.state and seen["state"].max_steps == trainer.max_steps
    assert len(seen["columns"]["topic"]) == 8
    assert batch.metrics["custom/score"] == 2.0
    assert batch.metrics["rewards/reward/mean"] == 1.0  # the Nones are left out of the mean


def test_async_reward_functions_run_concurrently(lora_checkpoint, tmp_path):
    started = {}

    async def waits_for_the_other(prompts, completions, **kwargs):
        started["first"] = asyncio.Event()
        await asyncio.wait_for(started["first"].wait(), timeout=10)  # only set by the other function
        return [1.0] * len(completions)

    async def sets_the_event(prompts, completions, **kwargs):
        while "first" not in started:
            await asyncio.sleep(0)
        started["first"].set()
        return [0.0] * len(completions)

    trainer = GRPOTrainer(str(lora_checkpoint), [waits_for_the_other, sets_the_event], args=tiny_config(tmp_path),
                          train_dataset=toy_dataset())
    batch = trainer.generate_and_score(1)
    assert batch.metrics["rewards/waits_for_the_other/mean"] == 1.0


def test_a_raising_reward_names_itself_and_the_row(lora_checkpoint, tmp_path):
    def picky(prompts, completions, completion_ids, **kwargs):
        return [1.0 / (len(ids) - len(ids)) for ids in completion_ids]  # ZeroDivisionError on every row

    trainer = GRPOTrainer(str(lora_checkpoint), picky, args=tiny_config(tmp_path), train_dataset=toy_dataset())
    with pytest.raises(GRPORewardError, match=r"reward function picky raised ZeroDivisionError: .* on completion 0 "
                                              r"of dataset row \d+.*can then be resumed"):
        trainer.generate_and_score(1)


def test_a_nan_reward_is_warned_about(lora_checkpoint, tmp_path, caplog):
    def nan_reward(prompts, completions, **kwargs):
        return [float("nan")] + [0.5] * (len(completions) - 1)

    trainer = GRPOTrainer(str(lora_checkpoint), nan_reward, args=tiny_config(tmp_path), train_dataset=toy_dataset())
    with caplog.at_level(logging.WARNING):
        trainer.generate_and_score(1)
    assert "reward function nan_reward returned NaN for completion 0 of dataset row" in caplog.text


def test_a_reward_given_as_module_and_function_is_imported(lora_checkpoint, tmp_path):
    trainer = GRPOTrainer(str(lora_checkpoint), "runtime.grpo.tasks:even_token_reward", args=tiny_config(tmp_path),
                          train_dataset=toy_dataset())
    assert trainer.reward_names == ["even_token_reward"]


def test_reward_models_are_refused_with_what_to_do(lora_checkpoint, tmp_path):
    import torch

    with pytest.raises(GRPOInputError, match="wrap it in a function"):
        GRPOTrainer(str(lora_checkpoint), torch.nn.Linear(2, 1), args=tiny_config(tmp_path),
                    train_dataset=toy_dataset())


def test_peft_config_sets_the_adapters(lora_checkpoint, tmp_path):
    trainer = GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path),
                          train_dataset=toy_dataset(),
                          peft_config=LoraConfig(r=2, lora_alpha=4, lora_dropout=0.0, target_modules=["q_proj"]))
    names = [name for name, parameter in trainer.policy.named_parameters() if parameter.requires_grad]
    assert names and all("q_proj" in name for name in names)
    assert trainer.args.lora_r == 2 and trainer.args.lora_target_modules == ["q_proj"]


class Recorder(TrainerCallback):
    def __init__(self):
        self.events = []

    def on_step_end(self, args, state, control, **kwargs):
        self.events.append(("step_end", state.global_step))
        if state.global_step == 2:
            control.should_training_stop = True

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.events.append(("log", logs["step"]))

    def on_save(self, args, state, control, **kwargs):
        self.events.append(("save", state.global_step))

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self.events.append(("evaluate", "eval_reward" in metrics))

    def on_train_end(self, args, state, control, **kwargs):
        self.events.append(("train_end", state.global_step))


def test_callbacks_hear_each_step_and_can_stop_the_run(lora_checkpoint, tmp_path):
    recorder = Recorder()
    config = tiny_config(tmp_path, max_steps=5, save_steps=10, eval_strategy="steps", eval_steps=1)
    trainer = GRPOTrainer(str(lora_checkpoint), even_token_reward, args=config, train_dataset=toy_dataset(),
                          eval_dataset=toy_dataset(1)[:2], callbacks=[recorder])
    trainer.train()
    assert recorder.events == [("step_end", 1), ("log", 1), ("log", 1), ("evaluate", True), ("step_end", 2),
                               ("log", 2), ("log", 2), ("evaluate", True), ("save", 2), ("log", 2), ("train_end", 2)]
    assert (tmp_path / "checkpoint-2").is_dir()
    assert any("eval_reward" in record for record in trainer.state.log_history)


def test_a_larger_max_steps_continues_a_finished_run(lora_checkpoint, tmp_path):
    GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path, max_steps=1),
                train_dataset=toy_dataset()).train()
    records = GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path, max_steps=2),
                          train_dataset=toy_dataset()).train(resume_from_checkpoint=True)
    assert [record["step"] for record in records] == [2]


def test_ctrl_c_saves_the_last_step_and_says_how_to_resume(lora_checkpoint, tmp_path):
    calls = []

    def interrupted_at_step_two(prompts, completions, completion_ids, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return even_token_reward(prompts, completions, completion_ids)

    trainer = GRPOTrainer(str(lora_checkpoint), interrupted_at_step_two, args=tiny_config(tmp_path, max_steps=4,
                          save_steps=10), train_dataset=toy_dataset())
    with pytest.raises(GRPOInterrupted, match=r"stopped at step 1 of 4 .*checkpoint-1 holds it.*resume with"):
        trainer.train()
    assert (tmp_path / "checkpoint-1" / "adapter_model.safetensors").is_file()


def test_save_model_writes_a_peft_adapter_beside_the_run(lora_checkpoint, tmp_path):
    trainer = GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path, max_steps=1),
                          train_dataset=toy_dataset())
    trainer.train()
    trainer.save_model()
    assert (tmp_path / "adapter_model.safetensors").is_file() and (tmp_path / "checkpoint-1").is_dir()


def test_prompts_longer_than_max_prompt_length_are_reported_at_setup(lora_checkpoint, tmp_path, caplog):
    dataset = [{"prompt": [5] * 20}, {"prompt": [6] * 3}] * 4
    with caplog.at_level(logging.WARNING):
        GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path, max_prompt_length=10),
                    train_dataset=dataset)
    assert "4 of 8 prompts are longer than max_prompt_length=10 tokens and are cut on the left (rows 0, 2, 4, 6)" \
        in caplog.text


def test_prompts_that_leave_no_room_in_the_context_are_refused(lora_checkpoint, tmp_path):
    from runtime.grpo.errors import GRPODatasetError

    dataset = [{"prompt": [5] * 4093}] + toy_dataset()[:7]
    with pytest.raises(GRPODatasetError, match=r"1 of 8 prompts leave no room for max_completion_length=6 tokens "
                                               r"in the model's context of 4096 \(rows 0\)"):
        GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path), train_dataset=dataset)


def test_prompts_have_no_length_limit_by_default_as_in_trl():
    assert GRPOConfig().max_prompt_length is None  # TRL 1.16 has no prompt limit


def test_a_causal_lm_all_linear_peft_config_adapts_what_it_adapts_on_transformers(lora_checkpoint, tmp_path):
    trainer = GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path, max_steps=1),
                          train_dataset=toy_dataset(),
                          peft_config=LoraConfig(task_type="CAUSAL_LM", r=2, target_modules="all-linear"))
    adapted = {name.split(".lora_")[0].split(".")[-1] for name, parameter in trainer.policy.named_parameters()
               if parameter.requires_grad}
    assert adapted == {"q_proj", "k_proj", "v_proj", "o_proj"}, "peft leaves out lm_head; the router is no Linear"


def test_a_transformers_model_is_rewritten_in_memory_and_keeps_its_tokenizer_and_stop_tokens(lora_checkpoint,
                                                                                              tmp_path, caplog):
    from transformers import GptOssForCausalLM

    model = GptOssForCausalLM.from_pretrained(lora_checkpoint, dtype="float32")
    with caplog.at_level(logging.WARNING):
        trainer = GRPOTrainer(model, even_token_reward, args=tiny_config(tmp_path, max_steps=1),
                              train_dataset=[{"prompt": [{"role": "user", "content": "hi"}]}] * 2)
    assert "rewriting" in caplog.text and "in memory with the default passes" in caplog.text
    assert trainer.processing_class is not None, "the directory it was loaded from has a tokenizer"
    assert set(model.generation_config.eos_token_id) <= set(trainer.stop_token_ids)
    trainer.train()
