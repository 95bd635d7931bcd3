"""Streaming: the engine hands each step's tokens on as they are chosen, and a harmony reply's thinking and final
text arrive in pieces that add up to the parsed message."""

from __future__ import annotations

import pytest
import torch

from rewrite import load, load_tokenizer
from runtime.chat import chat
from runtime.generate import generate
from runtime.harmony_stream import HarmonyStream
from tests.scripted_reply import ANALYSIS_THEN_FINAL


@pytest.fixture(scope="module")
def model(full_checkpoint):
    return load(full_checkpoint)


@pytest.fixture(scope="module")
def tokenizer(full_checkpoint):
    return load_tokenizer(full_checkpoint)


def test_the_engine_hands_on_every_steps_tokens_once_in_order_finished_rows_as_padding(model):
    ids = torch.randint(3, 512, (2, 11), generator=torch.Generator().manual_seed(0))
    free_run = generate(model, ids, max_new_tokens=20)[:, ids.shape[1]:]
    stops = [int(free_run[0, 2]), int(free_run[1, 1])]  # every row stops within three steps
    handed_on = []
    output = generate(model, ids, max_new_tokens=20, eos_token_id=stops, pad_token_id=0,
                      on_token=lambda token: handed_on.append(token.clone()))
    completion = output[:, ids.shape[1]:]
    steps = torch.stack(handed_on, dim=1)
    assert completion.shape[1] <= 3 < steps.shape[1], "the engine notices the stops a few steps late"
    assert torch.equal(steps[:, : completion.shape[1]], completion)
    assert (steps[:, completion.shape[1]:] == 0).all(), "the steps the output trims are padding in every row"


def test_thinking_and_content_arrive_in_pieces_that_add_up_to_the_parsed_message(tokenizer):
    completion = tokenizer.encode(ANALYSIS_THEN_FINAL, add_special_tokens=False)
    pieces = []
    stream = HarmonyStream(tokenizer, prompt_ids=[], on_text=lambda field, text: pieces.append((field, text)),
                           interval=0)
    for token in completion:
        stream.push(token)
    message = stream.close().message
    assert message["thinking"] == "two plus three is five, so the answer is five"
    assert message["content"] == "The answer is 5."
    for field in ("thinking", "content"):
        assert "".join(text for name, text in pieces if name == field) == message[field]
        assert sum(name == field for name, _ in pieces) > 3, f"{field} arrives as it is generated, not at the end"
    fields = [name for name, _ in pieces]
    assert fields == sorted(fields, key=("thinking", "content").index), "thinking first, then the final channel"


def test_a_stream_read_only_at_the_end_hands_on_the_same_text(tokenizer):
    completion = tokenizer.encode(ANALYSIS_THEN_FINAL, add_special_tokens=False)
    pieces = []
    stream = HarmonyStream(tokenizer, [], lambda field, text: pieces.append((field, text)), interval=3600)
    for token in completion:
        stream.push(token)
    message = stream.close().message
    assert pieces == [("thinking", message["thinking"]), ("content", message["content"])]


def test_chat_streams_what_it_returns_and_greedy_chat_repeats(model, tokenizer):
    messages = [{"role": "user", "content": "hello"}]
    pieces = []
    result = chat(model, tokenizer, messages, reasoning_effort="low", max_new_tokens=12, temperature=0,
                  on_text=lambda field, text: pieces.append((field, text)))
    again = chat(model, tokenizer, messages, reasoning_effort="low", max_new_tokens=12, temperature=0)
    assert result == again
    assert result.finish_reason in ("stop", "tool_calls", "length") and 0 < len(result.completion_ids) <= 12
    for field in ("thinking", "content"):
        assert "".join(text for name, text in pieces if name == field) == getattr(result, field)
