"""Harmony completions read from token ids: thinking, final content, tool calls, cut-offs and non-harmony text."""

from __future__ import annotations

import pytest

from rewrite import preset_tokenizer
from runtime.harmony import HARMONY_SPECIAL_TOKENS, harmony_token_ids, parse_harmony

ISSUE_EXAMPLE = ("<|channel|>analysis<|message|>two plus three is five<|end|><|start|>assistant"
                 "<|channel|>final<|message|>5<|return|>")


@pytest.fixture(scope="module")
def tokenizer():
    return preset_tokenizer("tiny")


def ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_the_issues_completion_is_thinking_and_content(tokenizer):
    parsed = parse_harmony(ids(tokenizer, ISSUE_EXAMPLE), tokenizer)
    assert parsed.message == {"role": "assistant", "thinking": "two plus three is five", "content": "5"}
    assert parsed.is_harmony and parsed.reached_final


def test_a_completion_cut_off_in_its_analysis_has_empty_content_and_did_not_reach_final(tokenizer):
    parsed = parse_harmony(ids(tokenizer, "<|channel|>analysis<|message|>two plus thr"), tokenizer)
    assert parsed.message == {"role": "assistant", "thinking": "two plus thr", "content": ""}
    assert parsed.is_harmony and not parsed.reached_final


def test_a_completion_cut_off_in_its_final_message_keeps_what_it_wrote(tokenizer):
    parsed = parse_harmony(ids(tokenizer, "<|channel|>final<|message|>def matmul(A, B):\n    ret"), tokenizer)
    assert parsed.message == {"role": "assistant", "content": "def matmul(A, B):\n    ret"}
    assert parsed.reached_final


def test_a_tool_call_is_parsed_with_json_arguments(tokenizer):
    completion = ('<|channel|>analysis<|message|>multiply<|end|><|start|>assistant to=functions.matmul'
                  '<|channel|>commentary json<|message|>{"A": [[1, 2]], "B": [[3], [4]]}<|call|>')
    assert parse_harmony(ids(tokenizer, completion), tokenizer).message == {
        "role": "assistant", "thinking": "multiply", "content": "",
        "tool_calls": [{"type": "function", "function": {"name": "matmul", "arguments": {"A": [[1, 2]],
                                                                                          "B": [[3], [4]]}}}],
    }


def test_a_cut_off_tool_call_falls_back_to_the_text_without_special_tokens(tokenizer):
    completion = '<|start|>assistant to=functions.matmul<|channel|>commentary json<|message|>{"A": [[1'
    parsed = parse_harmony(ids(tokenizer, completion), tokenizer)
    assert parsed.message == {"role": "assistant", "content": 'assistant to=functions.matmulcommentary json{"A": [[1'}


def test_the_prompts_prefilled_final_channel_is_read_before_the_completion(tokenizer):
    prompt = ids(tokenizer, "<|start|>user<|message|>2 + 3?<|end|><|start|>assistant<|channel|>final<|message|>")
    parsed = parse_harmony(ids(tokenizer, "5<|return|>"), tokenizer, prompt_ids=prompt)
    assert parsed.message == {"role": "assistant", "content": "5"} and parsed.reached_final


def test_ordinary_tokens_spelling_a_special_token_are_text_not_a_delimiter(tokenizer):
    spelled_end = ids(tokenizer, "<") + ids(tokenizer, "|end|>")
    assert tokenizer.decode(spelled_end) == "<|end|>"
    completion = [*ids(tokenizer, "<|channel|>analysis<|message|>a"), *spelled_end,
                  *ids(tokenizer, "<|channel|>final<|message|>b<|return|>")]
    parsed = parse_harmony(completion, tokenizer)
    assert parsed.message == {"role": "assistant", "thinking": "a<|end|><|channel|>final<|message|>b<|return|>",
                              "content": ""}


def test_a_completion_without_harmony_tokens_is_plain_text(tokenizer):
    parsed = parse_harmony(ids(tokenizer, "The answer is 5.<|endoftext|>"), tokenizer)
    assert parsed.message == {"role": "assistant", "content": "The answer is 5."}
    assert not parsed.is_harmony and not parsed.reached_final


def test_a_tokenizer_without_harmony_tokens_reads_every_completion_as_plain_text(tokenizer):
    class NoHarmony:  # a base model's tokenizer: no special token of harmony's
        unk_token_id = None
        eos_token = None

        def convert_tokens_to_ids(self, text):
            return None

        def decode(self, token_ids, skip_special_tokens=False):
            return tokenizer.decode(token_ids, skip_special_tokens=skip_special_tokens)

    assert harmony_token_ids(NoHarmony()) == {}
    parsed = parse_harmony(ids(tokenizer, ISSUE_EXAMPLE), NoHarmony())
    assert parsed.message == {"role": "assistant", "content": "analysistwo plus three is fiveassistantfinal5"}
    assert not parsed.is_harmony


def test_special_tokens_are_found_by_their_text(tokenizer):
    assert harmony_token_ids(tokenizer) == {text: tokenizer.convert_tokens_to_ids(text)
                                            for text in HARMONY_SPECIAL_TOKENS}
    assert harmony_token_ids(preset_tokenizer("gpt-oss-20b"))["<|channel|>"] == 200005
