"""The trainer refuses what it cannot use with a message that says what to do, and trains on text prompts."""

from __future__ import annotations

import datasets
import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from rewrite import CheckpointError
from runtime.grpo import GRPOInputError
from runtime.grpo.errors import GRPODatasetError, GRPOTaskError
from runtime.grpo.tasks import get_task
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset
from tests.scratch_copies import edit_json, scratch_copy


def word_tokenizer() -> PreTrainedTokenizerFast:
    """Words w3 .. w511 are token ids 3 .. 511 of the tiny vocabulary; <pad>, </s>, <s> are 0, 1, 2."""
    vocab = {"<pad>": 0, "</s>": 1, "<s>": 2, **{f"w{index}": index for index in range(3, 512)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<pad>"))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token="</s>", pad_token="<pad>")


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ([{"text": [5, 6]}], "dataset row 0 has no 'prompt' column (columns: text)"),
        ([{"prompt": [5, 600]}], "holds 600, not a token id of the model's vocabulary [0, 512)"),
        ([{"prompt": []}], "dataset row 0 has an empty prompt"),
        ([], "the dataset is empty"),
    ],
)
def test_unusable_datasets_are_refused_at_construction(lora_checkpoint, tmp_path, dataset, message):
    with pytest.raises(GRPODatasetError) as refusal:
        GRPOTrainer(str(lora_checkpoint), even_token_reward, train_dataset=dataset, args=tiny_config(tmp_path))
    assert message in str(refusal.value)


def test_text_prompts_are_tokenized_and_rewards_get_decoded_completions(lora_checkpoint, tmp_path):
    seen = {}

    def text_reward(prompts, completions, completion_ids, **columns):
        seen.update(prompts=prompts, completions=completions, columns=columns)
        return [float(len(text)) for text in completions]

    dataset = [{"prompt": "w5 w6 w7", "topic": "a"}, {"prompt": "w9 w10", "topic": "b"}]
    trainer = GRPOTrainer(str(lora_checkpoint), text_reward, train_dataset=dataset, args=tiny_config(tmp_path),
                          processing_class=word_tokenizer())
    batch = trainer.generate_and_score(1)
    assert sorted(set(seen["prompts"])) == ["w5 w6 w7", "w9 w10"]
    assert all(isinstance(text, str) and text.startswith("w") for text in seen["completions"] if text)
    assert sorted(seen["columns"]["topic"]) == ["a"] * 4 + ["b"] * 4
    assert batch.prompt_length == 3


def test_text_prompts_without_a_tokenizer_use_the_checkpoints_own(lora_checkpoint, tmp_path):
    dataset = [{"prompt": "Say hello."}, {"prompt": "Name a prime."}]
    trainer = GRPOTrainer(str(lora_checkpoint), even_token_reward, train_dataset=dataset, args=tiny_config(tmp_path))
    assert trainer.processing_class is not None
    assert trainer.dataset.token_ids(0) == trainer.processing_class("Say hello.", add_special_tokens=False)["input_ids"]


def test_a_datasets_dataset_is_read_like_a_list_of_rows(lora_checkpoint, tmp_path):
    dataset = datasets.Dataset.from_list(toy_dataset())
    trainer = GRPOTrainer(str(lora_checkpoint), even_token_reward, train_dataset=dataset, args=tiny_config(tmp_path))
    assert len(trainer.generate_and_score(1)) == 8


def test_a_directory_not_written_by_rewrite_build_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="is not a gpt-oss-rewrite checkpoint"):
        GRPOTrainer(str(tmp_path), even_token_reward, train_dataset=toy_dataset(), args=tiny_config(tmp_path / "out"))


def test_a_checkpoint_of_the_format_before_module_roles_asks_for_a_rebuild(tiny_checkpoint, tmp_path):
    old = scratch_copy(tiny_checkpoint, tmp_path)
    edit_json(old / "manifest.json", lambda manifest: manifest.update(format_version=1))
    with pytest.raises(CheckpointError, match="format version 1 is not supported .* rebuild it with `rewrite build`"):
        GRPOTrainer(str(old), even_token_reward, train_dataset=toy_dataset(), args=tiny_config(tmp_path / "out"))


def test_reward_weights_must_match_the_reward_functions(lora_checkpoint, tmp_path):
    with pytest.raises(GRPOInputError, match="2 reward weights for 1 reward functions"):
        GRPOTrainer(str(lora_checkpoint), even_token_reward, train_dataset=toy_dataset(),
                    args=tiny_config(tmp_path, reward_weights=[1.0, 2.0]))


def test_a_reward_function_must_return_one_value_per_completion(lora_checkpoint, tmp_path):
    def short_reward(prompts, completions, completion_ids, **columns):
        return [1.0]

    trainer = GRPOTrainer(str(lora_checkpoint), short_reward, train_dataset=toy_dataset(), args=tiny_config(tmp_path))
    with pytest.raises(GRPOInputError, match="short_reward returned 1 values for 8 completions"):
        trainer.generate_and_score(1)


def test_an_unknown_task_lists_the_known_ones():
    with pytest.raises(GRPOTaskError, match="unknown task 'sorting': choose one of even-tokens, matmul, target-token"):
        get_task("sorting")
