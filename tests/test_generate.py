"""The engine generates exactly what transformers' `generate` does, greedy, on left-padded batches."""

import pytest
import torch
from transformers import GptOssForCausalLM

from rewrite import load
from rewrite.errors import GenerationError
from runtime.generate import generate


@pytest.fixture(scope="module")
def loaded(tiny_checkpoint):
    return load(tiny_checkpoint), GptOssForCausalLM.from_pretrained(tiny_checkpoint).eval()


def _batch(window: int):
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 512, (3, 2 * window + 4), generator=generator)
    mask = torch.ones_like(ids)
    mask[0, :7] = 0
    mask[1, :2] = 0
    return ids.masked_fill(mask == 0, 0), mask


def test_greedy_is_token_identical_to_transformers_generate(loaded):
    model, hf = loaded
    ids, mask = _batch(model.spec.sliding_window)
    ours = generate(model, ids, mask, max_new_tokens=24)
    theirs = hf.generate(input_ids=ids, attention_mask=mask, max_new_tokens=24, do_sample=False, pad_token_id=0)
    assert torch.equal(ours, theirs)


def test_greedy_with_eos_stops_and_pads_like_transformers(loaded):
    model, hf = loaded
    ids, mask = _batch(model.spec.sliding_window)
    free_run = generate(model, ids, mask, max_new_tokens=12)
    eos = int(free_run[0, ids.shape[1] + 3])  # a token row 0 emits early: it must stop there
    ours = generate(model, ids, mask, max_new_tokens=12, eos_token_id=eos, pad_token_id=0)
    theirs = hf.generate(input_ids=ids, attention_mask=mask, max_new_tokens=12, do_sample=False,
                         eos_token_id=eos, pad_token_id=0)
    assert torch.equal(ours, theirs)
    assert (ours[0, ids.shape[1] + 4 :] == 0).all()


def test_seeded_sampling_repeats_and_logprobs_match_the_logits(loaded):
    model, _ = loaded
    ids, mask = _batch(model.spec.sliding_window)
    runs = [
        generate(model, ids, mask, max_new_tokens=10, do_sample=True, temperature=0.8, top_k=50, top_p=0.9,
                 generator=torch.Generator().manual_seed(7), return_logprobs=True)
        for _ in range(2)
    ]
    assert torch.equal(runs[0].sequences, runs[1].sequences)
    full_mask = torch.cat([mask, torch.ones_like(runs[0].completion_mask)], dim=1)
    logits = model(runs[0].sequences, full_mask)[:, ids.shape[1] - 1 : -1] / 0.8
    expected = logits.log_softmax(-1).gather(-1, runs[0].sequences[:, ids.shape[1] :, None]).squeeze(-1)
    torch.testing.assert_close(runs[0].logprobs, expected, atol=1e-4, rtol=0)


def test_stop_sequences_end_a_row(loaded):
    model, _ = loaded
    ids, mask = _batch(model.spec.sliding_window)
    free_run = generate(model, ids, mask, max_new_tokens=8)
    stop = free_run[1, ids.shape[1] + 2 : ids.shape[1] + 4].tolist()
    output = generate(model, ids, mask, max_new_tokens=8, stop_sequences=[stop], pad_token_id=0,
                      return_logprobs=True)
    assert output.completion_mask[1].tolist()[:4] == [1, 1, 1, 1]
    assert output.completion_mask[1, 4:].sum() == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_new_tokens": 0}, "max_new_tokens must be a positive int"),
        ({"max_new_tokens": -3}, "max_new_tokens must be a positive int"),
        ({"max_new_tokens": 4, "beam_width": 3}, "unknown generation option beam_width"),
        ({"max_new_tokens": 4, "do_sample": True, "temperature": 0.0}, "temperature must be > 0"),
        ({"max_new_tokens": 4, "top_p": 1.5}, "top_p must be in"),
    ],
)
def test_bad_requests_are_refused(loaded, kwargs, message):
    model, _ = loaded
    with pytest.raises(GenerationError, match=message):
        generate(model, torch.ones(1, 4, dtype=torch.long), **kwargs)


def test_empty_batches_and_overlong_prompts_are_refused(loaded):
    model, _ = loaded
    with pytest.raises(GenerationError, match="empty batch"):
        generate(model, torch.ones(0, 4, dtype=torch.long), max_new_tokens=2)
    context = model.spec.max_position_embeddings
    with pytest.raises(GenerationError, match="exceeds the model's context"):
        generate(model, torch.ones(1, context - 1, dtype=torch.long), max_new_tokens=2)
