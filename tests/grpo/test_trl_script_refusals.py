"""What TRL 1.16 scripts do that this trainer answers differently: TRL's reads of its config fields that are not
ours, its reward_processing_classes rule, and the TRL features we cannot honour, each refused with what to do."""

from __future__ import annotations

import pytest
from datasets import Dataset

from runtime.grpo import GRPOConfig, GRPODatasetError, GRPOInputError
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset


def test_trl_fields_that_are_not_ours_read_as_given_or_as_trls_default(tmp_path):
    config = GRPOConfig(output_dir=str(tmp_path), push_to_hub=False, hub_model_id="me/model")
    assert config.push_to_hub is False and config.hub_model_id == "me/model"  # `if args.push_to_hub:` reads as TRL
    assert config.load_best_model_at_end is False and config.hub_strategy == "every_save"
    assert config.replaced(lora_r=4).hub_model_id == "me/model"
    with pytest.raises(AttributeError, match="no attribute 'no_such_field'"):
        config.no_such_field  # noqa: B018


def test_a_reward_model_id_is_refused_before_the_model_loads_with_what_to_do(tmp_path):
    with pytest.raises(GRPOInputError, match="TRL would load it as a reward model .* Wrap the model in a function"):
        GRPOTrainer("no-such-model-dir", "trl-lib/Qwen2-0.5B-Reward", args=tiny_config(tmp_path),
                    train_dataset=toy_dataset())


def test_reward_processing_classes_must_number_the_reward_functions_as_in_trl(tmp_path):
    with pytest.raises(GRPOInputError, match=r"reward processing classes \(2\) must match .* reward functions \(1\)"):
        GRPOTrainer("no-such-model-dir", even_token_reward, args=tiny_config(tmp_path), train_dataset=toy_dataset(),
                    reward_processing_classes=[None, None])


def test_an_iterable_dataset_is_refused_with_how_to_materialise_it(lora_checkpoint, tmp_path):
    stream = Dataset.from_list(toy_dataset()).to_iterable_dataset()
    with pytest.raises(GRPODatasetError, match=r"\(IterableDataset\) cannot be indexed.*Dataset.from_list"):
        GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path), train_dataset=stream)


def test_evaluate_without_an_eval_dataset_says_what_to_pass(lora_checkpoint, tmp_path):
    trainer = GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path),
                          train_dataset=toy_dataset())
    with pytest.raises(GRPODatasetError, match=r"pass GRPOTrainer\(eval_dataset=...\)"):
        trainer.evaluate()
    with pytest.raises(GRPODatasetError, match=r"names none of the trainer's eval datasets \(it has no dict of them\)"):
        trainer.evaluate(eval_dataset="test")


def test_evaluate_by_a_name_the_trainer_does_not_have_lists_the_names(lora_checkpoint, tmp_path):
    trainer = GRPOTrainer(str(lora_checkpoint), even_token_reward, args=tiny_config(tmp_path),
                          train_dataset=toy_dataset(), eval_dataset={"easy": toy_dataset(1)[:2]})
    with pytest.raises(GRPODatasetError, match=r"evaluate\(eval_dataset='hard'\) names none .* \(easy\)"):
        trainer.evaluate(eval_dataset="hard")
