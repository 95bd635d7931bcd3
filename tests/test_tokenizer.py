"""The presets' harmony tokenizer: gpt-oss's special tokens at the preset's ids, determinism, and its chat template."""

from __future__ import annotations

import time

import jinja2
import pytest
from transformers import AutoTokenizer

from rewrite import PRESETS, preset_tokenizer
from rewrite.presets import preset_config, preset_generation_config

HARMONY_TOKENS = ["<|startoftext|>", "<|endoftext|>", "<|start|>", "<|end|>", "<|message|>", "<|channel|>",
                  "<|constrain|>", "<|return|>", "<|call|>"]
GPT_OSS_IDS = {"<|startoftext|>": 199998, "<|endoftext|>": 199999, "<|return|>": 200002, "<|constrain|>": 200003,
               "<|channel|>": 200005, "<|start|>": 200006, "<|end|>": 200007, "<|message|>": 200008,
               "<|call|>": 200012, "<|endofprompt|>": 200018}
# The toy tasks (runtime.grpo.tasks) draw prompts from ids 3 and up and reward the ordinary token 7.
FIRST_ORDINARY_TOKEN_ID, TARGET_TOKEN_ID = 3, 7
QUESTION = [{"role": "developer", "content": "Answer with a number."}, {"role": "user", "content": "2 + 3?"}]


@pytest.fixture(scope="module")
def tiny():
    return preset_tokenizer("tiny")


@pytest.fixture(scope="module")
def full_size():
    return preset_tokenizer("gpt-oss-20b")


@pytest.mark.parametrize("name", list(PRESETS))
def test_the_tokenizer_has_exactly_the_presets_vocabulary_size(name):
    tokenizer = preset_tokenizer(name)
    vocabulary = tokenizer.get_vocab()
    assert len(tokenizer) == len(vocabulary) == preset_config(name).vocab_size
    assert sorted(vocabulary.values()) == list(range(preset_config(name).vocab_size))
    assert all(tokenizer.convert_tokens_to_ids(token) is not None for token in HARMONY_TOKENS)


@pytest.mark.parametrize("name", list(PRESETS))
def test_pad_eos_and_bos_are_the_configs_ids_and_eos_is_a_harmony_stop(name):
    tokenizer, config = preset_tokenizer(name), preset_config(name)
    assert (tokenizer.pad_token, tokenizer.eos_token, tokenizer.bos_token) == \
        ("<|endoftext|>", "<|return|>", "<|startoftext|>")
    assert (tokenizer.pad_token_id, tokenizer.eos_token_id) == (config.pad_token_id, config.eos_token_id)
    assert tokenizer.eos_token_id in preset_generation_config(name).eos_token_id


def test_the_tiny_tokenizer_keeps_0_1_2_special_and_the_toy_tasks_ids_ordinary(tiny):
    assert tiny.convert_ids_to_tokens([0, 1, 2]) == ["<|endoftext|>", "<|return|>", "<|startoftext|>"]
    special = {tiny.convert_tokens_to_ids(token) for token in HARMONY_TOKENS}
    assert TARGET_TOKEN_ID not in special
    assert min(special - {0, 1, 2}) > FIRST_ORDINARY_TOKEN_ID + 256, "the 256 bytes follow the pad, eos and bos"


def test_the_full_size_tokenizer_puts_harmony_tokens_at_gpt_oss_ids(full_size):
    assert {token: full_size.convert_tokens_to_ids(token) for token in GPT_OSS_IDS} == GPT_OSS_IDS
    assert full_size.convert_ids_to_tokens([200000, 200013, 201087]) == \
        ["<|reserved_200000|>", "<|reserved_200013|>", "<|reserved_201087|>"]


@pytest.mark.parametrize("name", ["tiny", "gpt-oss-20b"])
def test_generation_config_stops_on_return_endoftext_and_call_as_gpt_oss(name):
    tokenizer, generation = preset_tokenizer(name), preset_generation_config(name)
    assert generation.eos_token_id == tokenizer.convert_tokens_to_ids(["<|return|>", "<|endoftext|>", "<|call|>"])
    assert (generation.pad_token_id, generation.bos_token_id) == (tokenizer.pad_token_id, tokenizer.bos_token_id)


@pytest.mark.parametrize("name", ["tiny", "gpt-oss-20b"])
def test_building_is_fast_and_gives_the_same_files_every_time(name, tmp_path):
    started = time.perf_counter()
    preset_tokenizer(name).save_pretrained(tmp_path / "first")
    assert time.perf_counter() - started < 5
    preset_tokenizer(name).save_pretrained(tmp_path / "second")
    files = sorted(path.name for path in (tmp_path / "first").iterdir())
    assert "tokenizer.json" in files and "chat_template.jinja" in files
    for file in files:
        assert (tmp_path / "first" / file).read_bytes() == (tmp_path / "second" / file).read_bytes(), file


@pytest.mark.parametrize("name", ["tiny", "gpt-oss-20b"])
def test_matmul_code_takes_few_tokens_and_text_round_trips(name):
    tokenizer = preset_tokenizer(name)
    assert len(tokenizer("def matmul(A, B):")["input_ids"]) <= 8
    text = "def matmul(A, B):\n    return [[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]  # é ∑ 🙂"
    assert tokenizer.decode(tokenizer(text)["input_ids"]) == text


def test_special_tokens_in_text_become_one_token_each(tiny):
    ids = tiny("<|start|>user<|message|>hi<|end|>")["input_ids"]
    assert ids[0] == tiny.convert_tokens_to_ids("<|start|>") and ids[-1] == tiny.convert_tokens_to_ids("<|end|>")
    assert tiny.decode(ids, skip_special_tokens=True) == "userhi"


def render(tokenizer, messages, **kwargs) -> str:
    return tokenizer.apply_chat_template(messages, tokenize=False, **kwargs)


def test_the_generation_prompt_has_the_reasoning_effort_and_ends_with_the_assistant_header(tiny):
    text = render(tiny, QUESTION, add_generation_prompt=True, reasoning_effort="low")
    assert text == (
        "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
        "Knowledge cutoff: 2024-06\n\nReasoning: low\n\n"
        "# Valid channels: analysis, commentary, final. Channel must be included for every message.<|end|>"
        "<|start|>developer<|message|># Instructions\n\nAnswer with a number.\n\n<|end|>"
        "<|start|>user<|message|>2 + 3?<|end|><|start|>assistant"
    )


def test_reasoning_effort_defaults_to_medium_and_dates_are_optional(tiny):
    text = render(tiny, QUESTION[1:], add_generation_prompt=True)
    assert "Reasoning: medium" in text and "Current date" not in text and "developer" not in text
    dated = render(tiny, QUESTION, add_generation_prompt=True, current_date="2026-12-01", knowledge_cutoff="2025-01")
    assert "Knowledge cutoff: 2025-01\nCurrent date: 2026-12-01\n\nReasoning: medium" in dated


def test_an_unknown_reasoning_effort_is_refused(tiny):
    with pytest.raises(jinja2.TemplateError, match="reasoning_effort must be low, medium or high"):
        render(tiny, QUESTION, add_generation_prompt=True, reasoning_effort="extreme")


def test_a_finished_conversation_shows_the_last_thinking_and_ends_with_return(tiny):
    answer = {"role": "assistant", "thinking": "2 + 3 = 5", "content": "5"}
    earlier = {"role": "assistant", "thinking": "dropped", "content": "4"}
    text = render(tiny, [*QUESTION, earlier, {"role": "user", "content": "again?"}, answer])
    assert text.endswith("<|start|>user<|message|>again?<|end|>"
                         "<|start|>assistant<|channel|>analysis<|message|>2 + 3 = 5<|end|>"
                         "<|start|>assistant<|channel|>final<|message|>5<|return|>")
    assert "<|start|>assistant<|channel|>final<|message|>4<|end|>" in text and "dropped" not in text


def test_tool_definitions_calls_and_results_are_rendered_as_harmony(tiny):
    tool = {"type": "function", "function": {
        "name": "matmul", "description": "Multiply two matrices.",
        "parameters": {"type": "object", "required": ["A"], "properties": {
            "A": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}, "description": "left"},
            "mode": {"type": "string", "enum": ["fast", "exact"]}}}}}
    call = {"role": "assistant", "thinking": "I will call it", "tool_calls": [
        {"type": "function", "function": {"name": "matmul", "arguments": {"A": [[1]]}}}]}
    result = {"role": "tool", "content": "[[2]]"}
    text = render(tiny, [*QUESTION, call, result], tools=[tool], add_generation_prompt=True)
    assert "Calls to these tools must go to the commentary channel: 'functions'.<|end|>" in text
    assert ("# Tools\n\n## functions\n\nnamespace functions {\n\n// Multiply two matrices.\n"
            "type matmul = (_: {\n// left\nA: number[][],\nmode?: \"fast\" | \"exact\",\n}) => any;\n\n"
            "} // namespace functions<|end|>") in text
    assert text.endswith(
        "<|start|>assistant<|channel|>analysis<|message|>I will call it<|end|>"
        '<|start|>assistant to=functions.matmul<|channel|>commentary json<|message|>{"A": [[1]]}<|call|>'
        "<|start|>functions.matmul to=assistant<|channel|>commentary<|message|>[[2]]<|end|><|start|>assistant"
    )


def test_a_tool_message_without_a_call_is_refused(tiny):
    with pytest.raises(jinja2.TemplateError, match="a tool message needs an earlier assistant message"):
        render(tiny, [*QUESTION, {"role": "tool", "content": "1"}], add_generation_prompt=True)


def test_save_pretrained_and_auto_tokenizer_give_back_the_tokenizer_and_its_template(tiny, tmp_path):
    tiny.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    assert loaded.get_vocab() == tiny.get_vocab()
    assert (loaded.pad_token_id, loaded.eos_token_id, loaded.bos_token_id) == (0, 1, 2)
    rendered = loaded.apply_chat_template(QUESTION, add_generation_prompt=True, reasoning_effort="low")
    assert rendered["input_ids"] == tiny(render(tiny, QUESTION, add_generation_prompt=True, reasoning_effort="low"),
                                         add_special_tokens=False)["input_ids"]
