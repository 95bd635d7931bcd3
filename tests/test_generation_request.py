"""A generation request is checked before the model runs: each bad argument is refused with what to pass instead."""

from __future__ import annotations

import pytest
import torch

from rewrite import load
from rewrite.errors import GenerationError
from runtime.generate import generate
from runtime.generation_request import GenerationRequest
from runtime.sampling import SamplingOptions

PROMPTS = torch.tensor([[5, 9, 11], [4, 8, 15]])
VOCAB = 512  # the tiny preset's


@pytest.fixture(scope="module")
def model(full_checkpoint):
    return load(full_checkpoint)


def checked(model, **options) -> GenerationRequest:
    return GenerationRequest.checked(model, PROMPTS, None, max_new_tokens=options.pop("max_new_tokens", 2),
                                     sampling=SamplingOptions(), **options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_new_tokens": 0}, "max_new_tokens must be a positive int, got 0"),
        ({"max_new_tokens": 2.0}, "max_new_tokens must be a positive int, got 2.0"),
        ({"max_new_tokens": True}, "max_new_tokens must be a positive int, got True"),
        ({"beam_width": 3}, "unknown generation option beam_width; accepted: do_sample, eos_token_id, generator, "
                            "min_p, on_token, pad_token_id, repetition_penalty, row_keys, stop_sequences, "
                            "temperature, top_k, top_p"),
        ({"do_sample": True, "temperature": 0.0}, "temperature must be > 0, got 0.0; use do_sample=False for greedy"),
        ({"temperature": float("nan")}, "temperature must be > 0, got nan; use do_sample=False for greedy"),
        ({"temperature": "hot"}, "temperature must be > 0, got hot; use do_sample=False for greedy"),
        ({"top_k": 0}, "top_k must be a positive int or None, got 0"),
        ({"top_k": 2.5}, "top_k must be a positive int or None, got 2.5"),
        ({"top_p": 1.5}, "top_p must be in (0, 1], got 1.5"),
        ({"min_p": "0.1"}, "min_p must be in [0, 1] or None, got 0.1"),
        ({"repetition_penalty": -1.0}, "repetition_penalty must be > 0 (1.0 disables it), got -1.0"),
        ({"eos_token_id": "2"}, "eos_token_id must be a token id (int) or a list of them, got '2'"),
        ({"eos_token_id": [2, None]}, "eos_token_id must be a token id (int) or a list of them, got [2, None]"),
        ({"eos_token_id": torch.tensor(2)},
         "eos_token_id must be a token id (int) or a list of them, got tensor(2)"),
        ({"pad_token_id": -1}, f"pad_token_id must be a token id in [0, {VOCAB}), got -1"),
        ({"pad_token_id": VOCAB}, f"pad_token_id must be a token id in [0, {VOCAB}), got {VOCAB}"),
        ({"eos_token_id": VOCAB + 3}, f"pad_token_id must be a token id in [0, {VOCAB}), got {VOCAB + 3} (the first "
                                      "eos_token_id, as no pad_token_id was given)"),
        ({"stop_sequences": [[]]}, "stop_sequences must be a list of non-empty lists of token ids, got [[]]; "
                                   "give single stop tokens as eos_token_id"),
        ({"stop_sequences": [5, 6]}, "stop_sequences must be a list of non-empty lists of token ids, got [5, 6]; "
                                     "give single stop tokens as eos_token_id"),
        ({"stop_sequences": [[5, "6"]]}, "stop_sequences must be a list of non-empty lists of token ids, got "
                                         "[[5, '6']]; give single stop tokens as eos_token_id"),
        ({"stop_sequences": 7}, "stop_sequences must be a list of non-empty lists of token ids, got 7; "
                                "give single stop tokens as eos_token_id"),
        ({"do_sample": True, "generator": torch.Generator(), "row_keys": torch.tensor([1, 2])},
         "pass either generator or row_keys, not both: each is a source of sampling randomness"),
        ({"row_keys": [1, 2]}, "row_keys must be one int64 key >= 0 per row, shape [2]; got [1, 2]"),
        ({"row_keys": torch.tensor([1, 2], dtype=torch.int32)},
         "row_keys must be one int64 key >= 0 per row, shape [2]; got torch.int32 of shape [2]"),
        ({"row_keys": torch.tensor([1, 2, 3])},
         "row_keys must be one int64 key >= 0 per row, shape [2]; got torch.int64 of shape [3]"),
        ({"row_keys": torch.tensor([1, -2])},
         "row_keys must be one int64 key >= 0 per row, shape [2]; got torch.int64 of shape [2]"),
    ],
)
def test_a_bad_option_is_refused_with_what_to_pass(model, options, message):
    with pytest.raises(GenerationError) as refusal:
        generate(model, PROMPTS, **{"max_new_tokens": 2, **options})
    assert str(refusal.value) == message


@pytest.mark.parametrize(
    ("input_ids", "attention_mask", "max_new_tokens", "message"),
    [
        (torch.ones(0, 4, dtype=torch.long), None, 2, "empty batch: input_ids has shape (0, 4)"),
        (torch.ones(4, dtype=torch.long), None, 2, "input_ids must be [batch, length], got shape (4,)"),
        (PROMPTS, torch.ones(2, 4, dtype=torch.long), 2,
         "attention_mask shape (2, 4) differs from input_ids shape (2, 3)"),
        (PROMPTS, None, 4094, "prompt of 3 tokens plus 4094 new tokens exceeds the model's context of 4096; "
                              "shorten the prompt or max_new_tokens"),
    ],
)
def test_prompts_the_model_cannot_run_are_refused(model, input_ids, attention_mask, max_new_tokens, message):
    with pytest.raises(GenerationError) as refusal:
        generate(model, input_ids, attention_mask, max_new_tokens=max_new_tokens)
    assert str(refusal.value) == message


def test_a_refused_request_never_reaches_the_model(model, monkeypatch):
    def no_model_call(*args, **kwargs):
        raise AssertionError("the model ran")

    monkeypatch.setattr(model, "step", no_model_call)
    with pytest.raises(GenerationError, match="pad_token_id"):
        generate(model, PROMPTS, max_new_tokens=2, pad_token_id=-1)


def test_the_pad_token_is_the_given_one_else_the_first_stop_token_else_0(model):
    assert checked(model, eos_token_id=[7, 3], pad_token_id=1).pad_token_id == 1
    assert checked(model, eos_token_id=(7, 3)).pad_token_id == 7
    assert checked(model, eos_token_id=9).pad_token_id == 9
    assert checked(model).pad_token_id == 0


def test_a_request_holds_the_stops_as_tensors_and_a_full_mask_when_none_was_given(model):
    request = checked(model, eos_token_id=[7, 3], stop_sequences=[(4, 5), [6]], row_keys=torch.tensor([0, 2**62]))
    assert request.stop_token_ids.tolist() == [7, 3]
    assert [sequence.tolist() for sequence in request.stop_sequences] == [[4, 5], [6]]
    assert torch.equal(request.attention_mask, torch.ones_like(PROMPTS))
    assert checked(model).stop_token_ids.numel() == 0 and checked(model).stop_sequences == ()
