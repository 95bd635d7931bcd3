"""A build carries its source's tokenizer: the preset's, or the checkpoint directory's files copied as they are."""

from __future__ import annotations

import json

import pytest
from transformers import AutoTokenizer

from rewrite import CheckpointError, build, build_preset, load, load_tokenizer, preset_tokenizer
from rewrite.tokenizer_files import GENERATION_CONFIG_FILE, TOKENIZER_FILES
from tests.scratch_copies import scratch_copy

OWN_TEMPLATE = "{%- for message in messages %}[{{ message.role }}] {{ message.content }}\n{%- endfor %}"


def test_a_preset_build_holds_the_presets_tokenizer_and_harmony_stops(tiny_checkpoint):
    tokenizer = load_tokenizer(tiny_checkpoint)
    assert tokenizer.get_vocab() == preset_tokenizer("tiny").get_vocab()
    assert tokenizer.chat_template == preset_tokenizer("tiny").chat_template
    generation = json.loads((tiny_checkpoint / GENERATION_CONFIG_FILE).read_text())
    assert generation["eos_token_id"] == tokenizer.convert_tokens_to_ids(["<|return|>", "<|endoftext|>", "<|call|>"])
    assert (generation["pad_token_id"], generation["bos_token_id"]) == (0, 2)


def test_the_manifest_lists_the_tokenizer_files_so_load_checks_them(tiny_checkpoint):
    files = json.loads((tiny_checkpoint / "manifest.json").read_text())["files"]
    assert {"tokenizer.json", "tokenizer_config.json", "chat_template.jinja", GENERATION_CONFIG_FILE} <= set(files)
    load(tiny_checkpoint)


def test_auto_tokenizer_reads_a_build_and_renders_the_reasoning_effort(tiny_checkpoint):
    tokenizer = AutoTokenizer.from_pretrained(tiny_checkpoint, local_files_only=True)
    text = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], add_generation_prompt=True,
                                         reasoning_effort="low", tokenize=False)
    assert "Reasoning: low" in text and text.endswith("<|start|>assistant")


@pytest.fixture(scope="module")
def transformers_checkpoint(tmp_path_factory):
    """A transformers checkpoint directory with a tokenizer of its own (another chat template) and generation
    settings of its own, as a downloaded model has."""
    directory = tmp_path_factory.mktemp("source") / "tiny-hf"
    model = build_preset("tiny")
    model.generation_config.eos_token_id = [1, 5]
    model.save_pretrained(directory)
    tokenizer = preset_tokenizer("tiny")
    tokenizer.chat_template = OWN_TEMPLATE
    tokenizer.save_pretrained(directory)
    (directory / "special_tokens_map.json").write_text('{"eos_token": "<|return|>"}\n')
    return directory


def test_a_checkpoint_build_copies_the_sources_tokenizer_files(transformers_checkpoint, tmp_path):
    out = build(tmp_path / "built", checkpoint=transformers_checkpoint, passes="none", verify=False)
    copied = [name for name in (*TOKENIZER_FILES, GENERATION_CONFIG_FILE) if (transformers_checkpoint / name).is_file()]
    assert len(copied) == 5
    for name in copied:
        assert (out / name).read_bytes() == (transformers_checkpoint / name).read_bytes(), name
    assert load_tokenizer(out).chat_template == OWN_TEMPLATE


def test_a_checkpoint_without_a_tokenizer_builds_one_without_and_load_tokenizer_says_why(tmp_path):
    source = tmp_path / "weights-only"
    build_preset("tiny").save_pretrained(source)
    out = build(tmp_path / "built", checkpoint=source, passes="none", verify=False)
    with pytest.raises(CheckpointError, match=r"has no tokenizer .*because its source .*weights-only had none.*"
                                              r"rewrite build --checkpoint"):
        load_tokenizer(out)


def test_an_older_preset_build_without_a_tokenizer_is_told_how_to_rebuild(tiny_checkpoint, tmp_path):
    copy = scratch_copy(tiny_checkpoint, tmp_path)
    for name in (*TOKENIZER_FILES, GENERATION_CONFIG_FILE):
        (copy / name).unlink(missing_ok=True)
    with pytest.raises(CheckpointError, match=f"rebuild it with `rewrite build --preset tiny --out {copy} --force`"):
        load_tokenizer(copy)


def test_a_directory_that_is_no_checkpoint_is_refused_plainly(tmp_path):
    with pytest.raises(CheckpointError, match="has no tokenizer.*pass a directory that holds a transformers tokenizer"):
        load_tokenizer(tmp_path)


@pytest.mark.parametrize("damage", ["{not json", '{"model": 3}'], ids=["not json", "not a tokenizer"])
def test_a_corrupt_tokenizer_file_is_a_checkpoint_error(tiny_checkpoint, tmp_path, damage):
    copy = scratch_copy(tiny_checkpoint, tmp_path)
    (copy / "tokenizer.json").write_text(damage)
    with pytest.raises(CheckpointError, match="cannot read the tokenizer of"):
        load_tokenizer(copy)
