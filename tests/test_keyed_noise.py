"""Keyed Gumbel noise samples the softmax exactly, independently per row and step, whatever the batch."""

from __future__ import annotations

import pytest
import torch

from rewrite import load
from rewrite.errors import GenerationError
from runtime.generate import GenerationEngine
from runtime.keyed_noise import gumbel_noise

LOGITS = torch.tensor([2.0, 0.5, -1.0, 1.0, 0.0, float("-inf")])
ROWS = 60_000


@pytest.fixture(scope="module")
def engine_on_tiny_model(full_checkpoint):
    return GenerationEngine(load(full_checkpoint))


def sampled(keys: torch.Tensor, step: int) -> torch.Tensor:
    return (LOGITS + gumbel_noise(keys, step, LOGITS.numel())).argmax(-1)


def assert_frequencies(counts: torch.Tensor, probabilities: torch.Tensor, draws: int):
    """Each count within 5 standard deviations of a multinomial's."""
    expected = probabilities * draws
    spread = (draws * probabilities * (1 - probabilities)).sqrt()
    assert ((counts - expected).abs() <= 5 * spread + 1e-9).all(), (counts, expected)


def test_argmax_of_scores_plus_noise_samples_the_softmax():
    keys = torch.arange(ROWS, dtype=torch.int64) * 7919 + (1 << 40)  # large keys use both 32-bit halves
    tokens = sampled(keys, step=3)
    assert_frequencies(torch.bincount(tokens, minlength=LOGITS.numel()).double(), LOGITS.softmax(-1).double(), ROWS)
    assert not (tokens == LOGITS.numel() - 1).any(), "a -inf score is never chosen"


def test_a_rows_draws_at_two_steps_are_independent():
    keys = torch.arange(ROWS, dtype=torch.int64)
    first, second = sampled(keys, 0), sampled(keys, 1)
    vocab = LOGITS.numel()
    joint = torch.bincount(first * vocab + second, minlength=vocab * vocab).double()
    probabilities = LOGITS.softmax(-1).double()
    assert_frequencies(joint, torch.outer(probabilities, probabilities).flatten(), ROWS)


def test_neighbouring_keys_give_unrelated_draws():
    keys = torch.arange(ROWS, dtype=torch.int64)
    tokens = sampled(keys, 5)
    vocab = LOGITS.numel()
    pairs = torch.bincount(tokens[0::2] * vocab + tokens[1::2], minlength=vocab * vocab).double()
    probabilities = LOGITS.softmax(-1).double()
    assert_frequencies(pairs, torch.outer(probabilities, probabilities).flatten(), ROWS // 2)


def test_a_rows_noise_depends_on_its_key_and_step_only():
    keys = torch.tensor([11, 5, 2**62 + 3], dtype=torch.int64)
    together = gumbel_noise(keys, 7, 1000)
    alone = gumbel_noise(keys[2:], 7, 1000)
    assert torch.equal(together[2:], alone)
    assert torch.isfinite(together).all()
    assert not torch.equal(gumbel_noise(keys, 8, 1000), together)


def test_row_keys_are_checked(engine_on_tiny_model):
    engine = engine_on_tiny_model
    ids = torch.tensor([[5, 9, 11], [4, 8, 15]])
    with pytest.raises(GenerationError, match="either generator or row_keys"):
        engine.generate(ids, max_new_tokens=2, do_sample=True, generator=torch.Generator(),
                        row_keys=torch.tensor([1, 2]))
    with pytest.raises(GenerationError, match=r"one int64 key >= 0 per row, shape \[2\]"):
        engine.generate(ids, max_new_tokens=2, do_sample=True, row_keys=torch.tensor([1, 2, 3]))
    with pytest.raises(GenerationError, match="one int64 key"):
        engine.generate(ids, max_new_tokens=2, do_sample=True, row_keys=torch.tensor([1, -2]))


def test_a_keyed_rows_completion_is_the_same_alone_and_in_a_batch(engine_on_tiny_model):
    engine = engine_on_tiny_model
    ids = torch.tensor([[0, 0, 5, 9, 11], [300, 17, 2, 99, 64], [0, 7, 7, 7, 7]])
    mask = (ids != 0).long()
    keys = torch.tensor([3, 1 << 50, 12], dtype=torch.int64)
    options = dict(max_new_tokens=12, do_sample=True, temperature=1.5, pad_token_id=0)
    batch = engine.generate(ids, mask, row_keys=keys, **options).sequences
    for row in range(3):
        alone = engine.generate(ids[row : row + 1], mask[row : row + 1], row_keys=keys[row : row + 1], **options)
        assert torch.equal(alone.sequences[0], batch[row, : alone.sequences.shape[1]])


def test_compiled_noise_equals_eager_and_one_graph_serves_every_step():
    from torch._dynamo.testing import CompileCounterWithBackend

    torch._dynamo.reset()
    counter = CompileCounterWithBackend("inductor")
    compiled = torch.compile(gumbel_noise, backend=counter, dynamic=False)  # as GenerationEngine compiles it
    keys = torch.tensor([0, 9, 2**40 + 1], dtype=torch.int64)
    steps = torch.arange(3)
    for step in range(3):
        torch.testing.assert_close(compiled(keys, steps[step], 1000), gumbel_noise(keys, step, 1000),
                                   rtol=1e-6, atol=1e-6)
    assert counter.frame_count == 1
