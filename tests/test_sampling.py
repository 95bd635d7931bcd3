"""Sampling scores follow transformers' logits processors: repetition penalty, temperature, top-k, min-p."""

import pytest
import torch
from transformers import GptOssForCausalLM
from transformers.generation.logits_process import (
    LogitsProcessorList,
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
)

from rewrite import load
from rewrite.errors import GenerationError
from runtime.generate import generate
from runtime.sampling import SamplingOptions, filtered_logits, mark_seen, sample_next, seen_tokens

VOCAB = 64


def random_logits(rows: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.randn(rows, VOCAB, generator=torch.Generator().manual_seed(seed)) * 3


def left_padded_history(rows: int = 4, length: int = 12, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids with 0..3 pad tokens (id 5, also a real token of other rows) on the left of each row."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (rows, length), generator=generator)
    mask = torch.ones_like(ids)
    for row in range(rows):
        mask[row, :row] = 0
    return ids.masked_fill(mask == 0, 5), mask


@pytest.mark.parametrize("penalty", [1.5, 0.7])
def test_repetition_penalty_matches_transformers_and_skips_left_padding(penalty):
    ids, mask = left_padded_history()
    logits = random_logits()
    options = SamplingOptions(do_sample=True, repetition_penalty=penalty)
    processor = RepetitionPenaltyLogitsProcessor(penalty, prompt_ignore_length=(mask == 0).sum(1))
    expected = processor(ids, logits.clone())
    assert torch.equal(filtered_logits(logits, options, seen_tokens(ids, mask, VOCAB)), expected)


def test_generated_tokens_join_the_penalized_set():
    ids, mask = left_padded_history()
    new_tokens = torch.tensor([1, 2, 3, 4])
    seen = seen_tokens(ids, mask, VOCAB)
    mark_seen(seen, new_tokens)
    processor = RepetitionPenaltyLogitsProcessor(1.3, prompt_ignore_length=(mask == 0).sum(1))
    logits = random_logits(seed=2)
    expected = processor(torch.cat([ids, new_tokens[:, None]], dim=1), logits.clone())
    assert torch.equal(filtered_logits(logits, SamplingOptions(True, repetition_penalty=1.3), seen), expected)


@pytest.mark.parametrize(("temperature", "top_k", "min_p"), [(1.0, None, 0.1), (0.7, None, 0.05), (1.3, 20, 0.2)])
def test_min_p_matches_transformers_after_temperature_and_top_k(temperature, top_k, min_p):
    logits = random_logits(seed=3)
    warpers = [TemperatureLogitsWarper(temperature)]
    if top_k is not None:
        warpers.append(TopKLogitsWarper(top_k))
    warpers.append(MinPLogitsWarper(min_p))
    expected = LogitsProcessorList(warpers)(None, logits.clone())
    options = SamplingOptions(do_sample=True, temperature=temperature, top_k=top_k, min_p=min_p)
    assert torch.equal(filtered_logits(logits, options), expected)


def test_min_p_of_one_keeps_only_the_most_likely_token():
    logits = random_logits(seed=4)
    kept = filtered_logits(logits, SamplingOptions(do_sample=True, min_p=1.0)).isfinite()
    assert torch.equal(kept, torch.nn.functional.one_hot(logits.argmax(-1), VOCAB).bool())


def test_greedy_picks_the_penalized_argmax_and_reports_the_models_log_prob():
    logits = torch.tensor([[4.0, 3.0, -1.0, 0.0]])
    seen = torch.tensor([[True, False, False, False]])
    options = SamplingOptions(do_sample=False, repetition_penalty=2.0)  # token 0: 4 -> 2, below token 1
    tokens, logprobs = sample_next(logits, options, seen=seen)
    assert tokens.tolist() == [1]
    assert logprobs.item() == pytest.approx(logits.log_softmax(-1)[0, 1].item())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_p": 1.5}, "min_p must be in [0, 1] or None, got 1.5"),
        ({"min_p": -0.1}, "min_p must be in [0, 1] or None, got -0.1"),
        ({"repetition_penalty": 0.0}, "repetition_penalty must be > 0 (1.0 disables it), got 0.0"),
    ],
)
def test_bad_sampling_options_are_refused(options, message):
    with pytest.raises(GenerationError) as refusal:
        SamplingOptions(do_sample=True, **options)
    assert str(refusal.value) == message


@pytest.fixture(scope="module")
def loaded(tiny_checkpoint):
    return load(tiny_checkpoint), GptOssForCausalLM.from_pretrained(tiny_checkpoint).eval()


def test_greedy_with_repetition_penalty_is_token_identical_to_transformers_generate(loaded):
    model, hf = loaded
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 512, (3, 20), generator=generator)
    mask = torch.ones_like(ids)
    mask[0, :7] = 0
    ids = ids.masked_fill(mask == 0, 0)
    ours = generate(model, ids, mask, max_new_tokens=16, repetition_penalty=1.8)
    theirs = hf.generate(input_ids=ids, attention_mask=mask, max_new_tokens=16, do_sample=False,
                         repetition_penalty=1.8, pad_token_id=0)
    assert torch.equal(ours, theirs)
    assert not torch.equal(ours, generate(model, ids, mask, max_new_tokens=16))  # the penalty changed something


def test_keyed_sampling_with_min_p_and_repetition_penalty_repeats(loaded):
    model, _ = loaded
    ids = torch.randint(3, 512, (4, 9), generator=torch.Generator().manual_seed(2))
    runs = [
        generate(model, ids, max_new_tokens=12, do_sample=True, temperature=0.9, min_p=0.05, repetition_penalty=1.2,
                 row_keys=torch.arange(4))
        for _ in range(2)
    ]
    assert torch.equal(runs[0], runs[1])
