"""`load_dataset_file` reads prompt datasets from JSONL, JSON, Parquet, CSV and save_to_disk directories."""

import json

import datasets
import pytest

from runtime.grpo import GRPODatasetError
from runtime.grpo.dataset_files import load_dataset_file

ROWS = [{"question": "What is 2 + 2?", "answer": "4"}, {"question": "Name a prime.", "answer": "7"}]


def write_rows(path, rows=ROWS):
    """`rows` written in the format `path`'s extension names."""
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    elif path.suffix == ".json":
        path.write_text(json.dumps(rows))
    elif path.suffix == ".parquet":
        datasets.Dataset.from_list(rows).to_parquet(str(path))
    elif path.suffix == ".csv":
        datasets.Dataset.from_list(rows).to_csv(str(path), index=False)
    return path


@pytest.mark.parametrize("extension", [".jsonl", ".json", ".parquet", ".csv"])
def test_data_files_load_with_the_prompt_column_renamed(tmp_path, extension):
    dataset = load_dataset_file(write_rows(tmp_path / f"data{extension}"), prompt_column="question")
    assert dataset.column_names == ["prompt", "answer"]
    assert dataset["prompt"] == ["What is 2 + 2?", "Name a prime."]


def test_conversational_prompts_keep_their_messages(tmp_path):
    rows = [{"prompt": [{"role": "user", "content": "hi"}], "target": 1}]
    dataset = load_dataset_file(write_rows(tmp_path / "chat.jsonl", rows))
    assert dataset[0] == rows[0]


def test_a_split_expression_slices_a_file(tmp_path):
    dataset = load_dataset_file(write_rows(tmp_path / "data.jsonl"), split="train[:1]", prompt_column="question")
    assert dataset["prompt"] == ["What is 2 + 2?"]


def test_saved_datasets_and_their_splits_load(tmp_path):
    train = datasets.Dataset.from_list(ROWS).rename_column("question", "prompt")
    train.save_to_disk(str(tmp_path / "single"))
    datasets.DatasetDict({"train": train, "test": train.select([1])}).save_to_disk(str(tmp_path / "splits"))
    assert load_dataset_file(tmp_path / "single")["prompt"] == train["prompt"]
    assert len(load_dataset_file(tmp_path / "splits")) == 2  # "train" by default
    assert load_dataset_file(tmp_path / "splits", split="test")["prompt"] == ["Name a prime."]


def test_a_saved_dataset_dict_without_train_needs_a_split(tmp_path):
    prompts = datasets.Dataset.from_list([{"prompt": "a"}])
    datasets.DatasetDict({"dev": prompts, "test": prompts}).save_to_disk(str(tmp_path / "splits"))
    with pytest.raises(GRPODatasetError) as refusal:
        load_dataset_file(tmp_path / "splits")
    assert str(refusal.value) == (
        f"dataset {tmp_path / 'splits'} has the splits dev, test: choose one with --dataset-split (split=...)."
    )
    datasets.DatasetDict({"dev": prompts}).save_to_disk(str(tmp_path / "one"))
    assert load_dataset_file(tmp_path / "one")["prompt"] == ["a"]


def refusal_of(*args, **kwargs) -> str:
    with pytest.raises(GRPODatasetError) as refusal:
        load_dataset_file(*args, **kwargs)
    return str(refusal.value)


def test_a_missing_path_is_refused(tmp_path):
    assert refusal_of(tmp_path / "nope.jsonl") == (
        f"dataset {tmp_path / 'nope.jsonl'} does not exist: pass a .jsonl, .json, .parquet or .csv file, or a "
        "directory written by save_to_disk."
    )


def test_an_unknown_extension_is_refused(tmp_path):
    (tmp_path / "data.txt").write_text("hello\n")
    assert refusal_of(tmp_path / "data.txt") == (
        f"dataset {tmp_path / 'data.txt'}: unknown extension '.txt'; use one of .jsonl, .json, .parquet, .csv, or a "
        "directory written by save_to_disk."
    )


def test_a_directory_not_written_by_save_to_disk_is_refused(tmp_path):
    write_rows(tmp_path / "data.jsonl")
    assert refusal_of(tmp_path) == (
        f"dataset {tmp_path} is a directory but not one written by save_to_disk (it has no dataset_info.json or "
        "dataset_dict.json): pass a data file (.jsonl, .json, .parquet, .csv) instead."
    )


def test_a_missing_column_is_refused_with_the_columns_there_are(tmp_path):
    assert refusal_of(write_rows(tmp_path / "data.jsonl")) == (
        f"dataset {tmp_path / 'data.jsonl'} has no column 'prompt'; its columns are question, answer: pass the one "
        "that holds the prompts as --prompt-column (prompt_column=...)."
    )


def test_a_second_prompt_column_is_refused(tmp_path):
    path = write_rows(tmp_path / "data.jsonl", [{"question": "a", "prompt": "b"}])
    assert "has both a 'question' and a 'prompt' column" in refusal_of(path, prompt_column="question")


def test_a_missing_split_is_refused_with_the_splits_there_are(tmp_path):
    datasets.DatasetDict({"train": datasets.Dataset.from_list([{"prompt": "a"}])}).save_to_disk(str(tmp_path / "d"))
    assert refusal_of(tmp_path / "d", split="validation") == (
        f"dataset {tmp_path / 'd'} has no split 'validation'; its splits are train."
    )
    assert refusal_of(write_rows(tmp_path / "data.jsonl"), split="test") == (
        f"dataset {tmp_path / 'data.jsonl'} is one file, whose only split is 'train' (a slice such as 'train[:100]' "
        "works), not 'test'."
    )


@pytest.mark.parametrize("extension", [".jsonl", ".csv"])
def test_an_empty_file_is_refused(tmp_path, extension):
    path = tmp_path / f"empty{extension}"
    path.write_text("")
    assert refusal_of(path) == f"dataset {path} is empty."


def test_a_dataset_without_rows_is_refused(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("prompt,answer\n")
    assert refusal_of(path) == f"dataset {path} has no rows."
    data = write_rows(tmp_path / "data.jsonl")
    assert refusal_of(data, split="train[2:]", prompt_column="question") == (
        f"dataset {data} (split 'train[2:]') has no rows."
    )


def test_an_unreadable_file_names_the_parser_error(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"prompt": "a"}\n{"prompt": \n')
    prefix = f"cannot read dataset {path} as json: "
    message = refusal_of(path)
    assert message.startswith(prefix) and "Error: " in message[len(prefix):]  # the parser's own complaint
