"""The engine's KV caches and prefill: caches are views of one buffer, released between generation and training
(the trainer does so after every round), and prompts prefill in groups of rows; none of it changes a token."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch
from transformers import GptOssForCausalLM

import runtime.generate as generate_module
from rewrite import load
from runtime.generate import GenerationEngine
from runtime.grpo.trainer import GRPOTrainer
from tests.grpo.tiny_run import even_token_reward, tiny_config, toy_dataset


@pytest.fixture(scope="module")
def loaded(tiny_checkpoint):
    return load(tiny_checkpoint), GptOssForCausalLM.from_pretrained(tiny_checkpoint).eval()


def _batch():
    ids = torch.randint(3, 512, (5, 21), generator=torch.Generator().manual_seed(3))
    mask = torch.ones_like(ids)
    mask[0, :7] = 0
    mask[3, :2] = 0
    return ids.masked_fill(mask == 0, 0), mask


def _sampled(engine: GenerationEngine, ids, mask):
    return engine.generate(ids, mask, max_new_tokens=12, do_sample=True, row_keys=torch.arange(ids.shape[0]))


def test_caches_are_zeroed_views_of_one_buffer(loaded):
    model, _ = loaded
    caches = model.empty_caches(3, 64)
    assert len(caches) == len(model.spec.cache_names)
    assert {cache.untyped_storage().data_ptr() for cache in caches} == {caches[0].untyped_storage().data_ptr()}
    assert all(cache.shape == model.spec.cache_shape(3, 64) and cache.is_contiguous() for cache in caches)
    assert all(not cache.any() for cache in caches)


def test_a_prefill_in_groups_of_rows_is_token_identical_to_transformers(loaded, monkeypatch):
    model, hf = loaded
    ids, mask = _batch()
    whole = _sampled(GenerationEngine(model), ids, mask)
    monkeypatch.setattr(generate_module, "PREFILL_TOKENS", 2 * generate_module.PROMPT_BUCKET)  # groups of 2 rows
    grouped = _sampled(GenerationEngine(model), ids, mask)
    assert torch.equal(grouped.sequences, whole.sequences)
    torch.testing.assert_close(grouped.logprobs, whole.logprobs, atol=1e-5, rtol=0)
    monkeypatch.setattr(generate_module, "PREFILL_TOKENS", 1)  # one row per group
    greedy = GenerationEngine(model).generate(ids, mask, max_new_tokens=12)
    expected = hf.generate(input_ids=ids, attention_mask=mask, max_new_tokens=12, do_sample=False, pad_token_id=0)
    assert torch.equal(greedy.sequences, expected)


def test_released_caches_are_freed_and_the_next_generation_is_unchanged(loaded):
    model, _ = loaded
    engine = GenerationEngine(model)
    ids, mask = _batch()
    first = _sampled(engine, ids, mask)
    (held,) = engine._cache_pool.values()
    alive = weakref.ref(held[0])
    del held
    engine.release_caches()
    gc.collect()
    assert alive() is None, "a released cache is still referenced"
    again = _sampled(engine, ids, mask)
    assert torch.equal(again.sequences, first.sequences)


def test_the_trainer_releases_the_caches_after_each_round(full_checkpoint, tmp_path):
    trainer = GRPOTrainer(str(full_checkpoint), even_token_reward, train_dataset=toy_dataset(),
                          args=tiny_config(tmp_path))
    trainer.generate_and_score(1)
    assert not trainer.engine._cache_pool
