"""What the trainer samples and how it scores it: keyed per (seed, step, prompt index, generation), log-probs that match
the sampler's, truncation flags, and log-probs computed without [batch, tokens, vocab] logits."""

from __future__ import annotations

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from rewrite import load
from runtime.generate import GenerationEngine
from runtime.grpo import GRPOConfig
from runtime.grpo.logprobs import completion_logprobs
from runtime.grpo.model_setup import attach_lora
from runtime.grpo.prompts import round_prompt_indices
from runtime.grpo.rollout import sample_completions
from tests.grpo.tiny_run import tiny_config

EOS, PAD = [1], 0
PROMPTS = [[5, 9, 11, 40], [300, 17, 2, 99, 64, 8, 120]]


@pytest.fixture(scope="module")
def engine(lora_checkpoint):
    return GenerationEngine(load(lora_checkpoint))


class LargestVocabularyTensor(TorchDispatchMode):
    """Records the element count of the largest tensor with a vocabulary-sized dimension that any operation
    returns while active (forward and backward alike)."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.vocab_size = vocab_size
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        sizes = [leaf.numel() for leaf in tree_leaves(result)
                 if isinstance(leaf, torch.Tensor) and self.vocab_size in leaf.shape]
        self.largest = max([self.largest, *sizes])
        return result


def test_a_prompts_completions_depend_only_on_seed_step_and_its_index(engine, tmp_path):
    config = tiny_config(tmp_path)
    both = sample_completions(engine, PROMPTS, config, 3, EOS, PAD)
    first_alone = sample_completions(engine, PROMPTS[:1], config, 3, EOS, PAD)
    assert both.completion_ids[: config.num_generations] == first_alone.completion_ids
    assert sample_completions(engine, PROMPTS[:1], config, 4, EOS, PAD).completion_ids != first_alone.completion_ids


def test_completions_do_not_depend_on_how_the_rows_are_split_into_engine_calls(engine, tmp_path):
    whole = sample_completions(engine, PROMPTS, tiny_config(tmp_path), 2, EOS, PAD)
    # calls of 2 rows: each group of 4 is split over two calls
    in_twos = sample_completions(engine, PROMPTS, tiny_config(tmp_path, generation_rows_per_call=2), 2, EOS, PAD)
    assert in_twos.completion_ids == whole.completion_ids
    assert torch.equal(in_twos.input_ids, whole.input_ids)
    assert torch.equal(in_twos.attention_mask, whole.attention_mask)


def test_prompts_are_left_padded_and_completions_right_padded(engine, tmp_path):
    completions = sample_completions(engine, PROMPTS, tiny_config(tmp_path), 1, EOS, PAD)
    assert completions.prompt_length == 7
    assert completions.input_ids[0, :7].tolist() == [PAD] * 3 + PROMPTS[0]
    assert completions.attention_mask[0, :7].tolist() == [0] * 3 + [1] * 4
    lengths = completions.completion_mask.sum(1).tolist()
    assert lengths == [len(ids) for ids in completions.completion_ids]


def test_completions_that_end_without_a_stop_token_are_flagged_truncated(engine, tmp_path):
    config = tiny_config(tmp_path, max_completion_length=3)
    free_run = sample_completions(engine, PROMPTS[:1], config, 1, EOS, PAD)
    stop = free_run.completion_ids[0][0]  # the first token of row 0 now stops row 0 at once
    completions = sample_completions(engine, PROMPTS[:1], config, 1, [stop], PAD)
    for ids, truncated in zip(completions.completion_ids, completions.is_truncated.tolist(), strict=True):
        assert truncated == (len(ids) == 3 and ids[-1] != stop)
    assert completions.completion_ids[0] == [stop] and not completions.is_truncated[0]


def test_recomputed_log_probs_equal_the_samplers(engine):
    generator = torch.Generator().manual_seed(0)
    ids = torch.tensor([[0, 0, 0] + PROMPTS[0], PROMPTS[1]])
    mask = (ids != 0).long()
    mask[1] = 1
    output = engine.generate(ids, mask, max_new_tokens=10, do_sample=True, temperature=0.7, eos_token_id=EOS,
                             pad_token_id=PAD, generator=generator)
    full_mask = torch.cat([mask, output.completion_mask], dim=1)
    with torch.no_grad():
        recomputed = completion_logprobs(engine.model, output.sequences, full_mask, ids.shape[1], temperature=0.7,
                                         chunk_size=3)
    torch.testing.assert_close(recomputed * output.completion_mask, output.logprobs * output.completion_mask,
                               atol=1e-4, rtol=0)


def test_chunked_log_probs_never_hold_batch_by_tokens_by_vocab_logits(lora_checkpoint):
    model = load(lora_checkpoint)
    attach_lora(model, GRPOConfig(lora_r=4, lora_alpha=8))
    batch, prompt, completion = 4, 4, 32
    ids = torch.randint(3, 512, (batch, prompt + completion), generator=torch.Generator().manual_seed(0))
    vocab, hidden = model.spec.vocab_size, model.spec.hidden_size

    def largest_tensor(chunk_size: int) -> int:
        with LargestVocabularyTensor(vocab) as recorder:
            logprobs = completion_logprobs(model, ids, torch.ones_like(ids), prompt, temperature=1.0,
                                           chunk_size=chunk_size)
            logprobs.sum().backward()
        return recorder.largest

    assert largest_tensor(chunk_size=batch * completion) == batch * completion * vocab, "one chunk: whole logits"
    # with chunks, the largest are the [vocab, hidden] weights (embedding, lm_head) or one chunk's logits
    assert largest_tensor(chunk_size=16) == max(16 * vocab, vocab * hidden)


def test_chunked_log_probs_equal_a_log_softmax_of_the_whole_logits(lora_checkpoint):
    model = load(lora_checkpoint)
    ids = torch.randint(3, 512, (2, 20), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[0, :3] = 0
    with torch.no_grad():
        whole = (model(ids, mask) / 0.5).log_softmax(-1)[:, 7:-1].gather(-1, ids[:, 8:, None]).squeeze(-1)
        chunked = completion_logprobs(model, ids, mask, 8, temperature=0.5, chunk_size=5)
    torch.testing.assert_close(chunked, whole, atol=1e-5, rtol=0)


def test_each_epoch_visits_prompts_once_in_an_order_fixed_by_seed_and_epoch():
    first_epoch = [round_prompt_indices(0, round_index, 4, 10) for round_index in range(2)]
    visited = [index for indices in first_epoch for index in indices]
    assert len(set(visited)) == 8, "two whole rounds of 4; the 2 prompts left over are dropped, as TRL's sampler"
    assert round_prompt_indices(0, 2, 4, 10) != first_epoch[0], "the next epoch has its own order"
    assert round_prompt_indices(0, 1, 4, 10) == first_epoch[1]
    assert round_prompt_indices(1, 0, 4, 10) != first_epoch[0]


def test_gradient_checkpointing_gives_the_same_gradients(lora_checkpoint):
    model = load(lora_checkpoint)
    attach_lora(model, GRPOConfig(lora_r=4, lora_alpha=8, lora_dropout=0.0,
                                  lora_target_modules=["q_proj", "o_proj", "lm_head"]))
    for name, parameter in model.named_parameters():
        if "lora_B" in name:  # away from zero, so that every adapter gets a gradient
            torch.nn.init.normal_(parameter, std=0.1, generator=torch.Generator().manual_seed(0))
    ids = torch.randint(3, 512, (2, 16), generator=torch.Generator().manual_seed(2))

    def gradients(gradient_checkpointing: bool) -> dict[str, torch.Tensor]:
        model.zero_grad()
        completion_logprobs(model, ids, torch.ones_like(ids), 6, temperature=1.0, chunk_size=7,
                            gradient_checkpointing=gradient_checkpointing).sum().backward()
        return {name: p.grad.clone() for name, p in model.named_parameters() if p.requires_grad}

    kept, recomputed = gradients(False), gradients(True)
    assert all(gradient.abs().max() > 0 for gradient in kept.values())
    for name, gradient in kept.items():
        torch.testing.assert_close(recomputed[name], gradient, msg=name)
