"""The generation engine: static KV cache, one prefill, then a (compiled) one-token decode step.

In the spirit of gpt-fast: the cache is a list of tensors sized from the request (rounded up to a
bucket so batches of similar length share compiled code), `prefill` and `decode_one_token` are plain
functions, sampling is `runtime.sampling`. Output follows transformers' `generate`: prompt plus
completion, left padding kept, finished rows padded with `pad_token_id`, stopping when every row is done.
Sampling draws from a `generator`, or with `row_keys` from noise keyed per row (`runtime.keyed_noise`): a row then
samples the same tokens in any batch.

With a `lockstep_group` (processes whose model calls are collectives, as FSDP's per-layer all-gathers are), every
process of the group runs the same number of decode steps: the periodic "has every row stopped?" check is combined
over the group, so decoding goes on until every process's rows have stopped. A process's output is unchanged: the
steps after its own rows stopped are trimmed, as the steps between two checks always are.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist

from rewrite.model import InputError, RewrittenGptOss
from rewrite.spec import pad_aware_position_ids

from .errors import GenerationError
from .keyed_noise import gumbel_noise
from .lm_head import lm_head_bypassed, lm_head_owner
from .sampling import SamplingOptions, mark_seen, sample_next, seen_tokens

CACHE_BUCKET = 64
PROMPT_BUCKET = 64  # prompts are left-padded to a multiple of this, so batches share compiled prefill code
# Decode steps between host reads of "has every row stopped?": each read waits for the GPU to drain, so
# reading every step leaves it idle while the next step is launched. Steps run past the last stop are
# trimmed from the output, which is therefore the same as stopping at once.
STOP_CHECK_INTERVAL = 16


@dataclass
class GenerationOutput:
    sequences: torch.Tensor  # [B, prompt + generated]
    logprobs: torch.Tensor  # [B, generated] log-prob of each generated token (0 after a row finished)
    completion_mask: torch.Tensor  # [B, generated] 1 up to and including a row's stop token


def decode_one_token(graph_module, spec, token, attention_mask, position, write_position, caches):
    """One token per row through the graph; writes the new keys and values back into `caches`."""
    outputs = graph_module(token, attention_mask, position, write_position, *caches)
    for cache, updated in zip(caches, outputs[spec.num_layers + 2 :], strict=True):
        cache.copy_(updated)
    return outputs[0][:, -1]


def supported_inductor_options(options: dict) -> dict:
    """The options this torch's inductor knows; a checkpoint built under another torch may ask for more."""
    import torch._inductor.config as inductor_config

    known = set(inductor_config._config)
    return {name: value for name, value in options.items() if name in known}


class GenerationEngine:
    """Generates from one loaded module; keeps compiled decode steps across calls."""

    def __init__(self, model: RewrittenGptOss, compile: bool | None = None, cuda_graphs: bool | None = None,
                 lockstep_group: dist.ProcessGroup | None = None):
        """`lockstep_group`: the processes that must run every decode step together (see the module docstring);
        every one of them calls `generate` the same number of times with the same `max_new_tokens`."""
        self.model = model
        self.lockstep_group = lockstep_group
        on_cuda = model.device.type == "cuda"
        self.compile = on_cuda if compile is None else compile
        # CUDA graphs replay a decode step's ~1000 kernels with one launch: the step stops being CPU-bound.
        self.cuda_graphs = self.compile and on_cuda if cuda_graphs is None else cuda_graphs
        self._cache_pool: dict[tuple[int, int], list[torch.Tensor]] = {}
        self._decode = decode_one_token
        self._gumbel_noise = gumbel_noise
        if self.compile:
            options = supported_inductor_options(model.runtime_options.get("inductor_options", {}))
            options["triton.cudagraphs"] = self.cuda_graphs  # what mode="reduce-overhead" sets
            # not fullgraph: 4-bit experts dequantize one expert at a time in an eager loop, a graph break per layer;
            # full-precision graphs compile whole (tools/bench_generate.py counts the graphs)
            self._decode = torch.compile(decode_one_token, dynamic=False, options=options)
            # ~30 elementwise ops over [B, vocab]: one fused kernel instead of ~30 passes over memory per step
            self._gumbel_noise = torch.compile(gumbel_noise, dynamic=False)

    @torch.no_grad()
    def generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        *,
        max_new_tokens: int,
        do_sample: bool = False,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        min_p: float | None = None,
        repetition_penalty: float = 1.0,
        eos_token_id: int | list[int] | None = None,
        pad_token_id: int | None = None,
        stop_sequences: list[list[int]] | None = None,
        generator: torch.Generator | None = None,
        row_keys: torch.Tensor | None = None,
        on_token: Callable[[torch.Tensor], None] | None = None,
    ) -> GenerationOutput:
        """`row_keys` [B] (int64, >= 0): each row's sampling key, instead of `generator`; a row's tokens then depend
        on its key, prompt and the model only. `on_token` (streaming) is called with each step's tokens [B], on the
        device, in order, once each, finished rows' as the pad token; it may receive a few steps that the output
        trims. It is called once the next decode step is queued, so the device has work while the caller reads it."""
        options = SamplingOptions(do_sample, temperature, top_k, top_p, min_p, repetition_penalty)
        attention_mask = self._check_request(input_ids, attention_mask, max_new_tokens)
        _check_row_keys(row_keys, generator, input_ids)
        row_keys = row_keys.to(input_ids.device) if row_keys is not None else None
        stop_ids = torch.tensor(_as_list(eos_token_id), dtype=torch.long, device=input_ids.device)
        pad = pad_token_id if pad_token_id is not None else (_as_list(eos_token_id) or [0])[0]
        batch = input_ids.shape[0]
        padded_ids, attention_mask = _left_pad(input_ids, attention_mask, PROMPT_BUCKET, pad)
        prompt_length = padded_ids.shape[1]
        cache_length = _bucket(prompt_length + max_new_tokens, CACHE_BUCKET)
        mask = torch.zeros(batch, cache_length, dtype=torch.long, device=input_ids.device)
        mask[:, :prompt_length] = attention_mask
        positions = pad_aware_position_ids(attention_mask)
        caches = self._caches(batch, cache_length)
        logits = self._prefill(padded_ids, attention_mask, positions, caches)
        seen = seen_tokens(padded_ids, attention_mask, logits.shape[-1]) if options.penalizes_repetition else None
        position = positions[:, -1:] + 1
        unfinished = torch.ones(batch, dtype=torch.bool, device=input_ids.device)
        write_positions = torch.arange(prompt_length, prompt_length + max_new_tokens, device=input_ids.device)
        steps = torch.arange(max_new_tokens, device=input_ids.device)
        tokens, logprobs, alive = [], [], []
        for index in range(max_new_tokens):
            noise = None
            if row_keys is not None and do_sample:  # the step as a tensor: one compiled graph for every step
                noise = self._gumbel_noise(row_keys, steps[index], logits.shape[-1])
            token, logprob = sample_next(logits, options, generator, noise, seen)
            token = torch.where(unfinished, token, torch.full_like(token, pad))
            if seen is not None:
                mark_seen(seen, token)
            tokens.append(token)
            logprobs.append(torch.where(unfinished, logprob, torch.zeros_like(logprob)))
            alive.append(unfinished.clone())
            unfinished &= ~self._stopped(token, tokens, stop_ids, stop_sequences)
            checks_now = (index + 1) % STOP_CHECK_INTERVAL == 0
            if index == max_new_tokens - 1 or (checks_now and not self._any_unfinished(unfinished)):
                break
            mask[:, prompt_length + index] = 1
            logits = self._decode(self.model.graph_module, self.model.spec, token[:, None], mask, position,
                                  write_positions[index], caches)
            position = position + 1
            if on_token is not None:
                on_token(token)
        if on_token is not None:
            on_token(tokens[-1])  # the step the loop ended on
        alive_steps = torch.stack(alive, dim=1)
        steps = int(alive_steps.any(0).nonzero().max()) + 1  # every row had stopped after this step
        return GenerationOutput(
            sequences=torch.cat([input_ids, torch.stack(tokens[:steps], dim=1)], dim=1),
            logprobs=torch.stack(logprobs[:steps], dim=1),
            completion_mask=alive_steps[:, :steps].long(),
        )

    def _prefill(self, padded_ids, attention_mask, positions, caches) -> torch.Tensor:
        """Run the prompts into the first slots of `caches`; returns the logits [B, vocab] of the last position.

        The graph fills caches as long as the prompts (what `forward` does), which are then copied into the long
        ones, so no second set of full-length caches exists; and the head runs on the last position alone, when
        the graph calls it as a module."""
        prompt_caches = self.model.empty_caches(padded_ids.shape[0], padded_ids.shape[1])
        owner = lm_head_owner(self.model.graph_module)
        if owner is None:
            step = self.model.step(padded_ids, attention_mask, positions, 0, prompt_caches)
            logits = step.logits[:, -1]
        else:
            with lm_head_bypassed(owner) as lm_head:
                step = self.model.step(padded_ids, attention_mask, positions, 0, prompt_caches)
            logits = lm_head(step.logits[:, -1])
        for cache, filled in zip(caches, step.caches, strict=True):
            cache[:, :, : padded_ids.shape[1]].copy_(filled)  # decode then writes in place: addresses stay put
        return logits

    def _caches(self, batch: int, cache_length: int) -> list[torch.Tensor]:
        """One set of cache tensors per (batch, length) bucket, reused by every call: CUDA graphs keep
        their addresses. Stale contents are harmless: a slot is written before any query may see it."""
        key = (batch, cache_length)
        if key not in self._cache_pool:
            self._cache_pool.clear()  # one bucket at a time: caches of a 20b model are large
            caches = self.model.empty_caches(batch, cache_length)
            if self.cuda_graphs:
                for cache in caches:
                    torch._dynamo.mark_static_address(cache)
            self._cache_pool[key] = caches
        return self._cache_pool[key]

    def _check_request(self, input_ids, attention_mask, max_new_tokens) -> torch.Tensor:
        if not isinstance(max_new_tokens, int) or max_new_tokens <= 0:
            raise GenerationError(f"max_new_tokens must be a positive int, got {max_new_tokens!r}")
        try:
            attention_mask = self.model.check_inputs(input_ids, attention_mask)
        except InputError as error:
            raise GenerationError(str(error)) from error
        total = input_ids.shape[1] + max_new_tokens
        if total > self.model.spec.max_position_embeddings:
            raise GenerationError(
                f"prompt of {input_ids.shape[1]} tokens plus {max_new_tokens} new tokens exceeds the "
                f"model's context of {self.model.spec.max_position_embeddings}; shorten the prompt or "
                "max_new_tokens"
            )
        return attention_mask

    def _any_unfinished(self, unfinished: torch.Tensor) -> bool:
        """Whether a row is still generating, here or (with a lockstep group) on any process of the group."""
        if self.lockstep_group is None:
            return bool(unfinished.any())
        flag = unfinished.any().to(torch.int32).reshape(1)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX, group=self.lockstep_group)
        return bool(flag)

    @staticmethod
    def _stopped(token, tokens, stop_ids, stop_sequences) -> torch.Tensor:
        stopped = torch.isin(token, stop_ids) if stop_ids.numel() else torch.zeros_like(token, dtype=torch.bool)
        for sequence in stop_sequences or []:
            if len(tokens) >= len(sequence):
                tail = torch.stack(tokens[-len(sequence) :], dim=1)
                stopped |= (tail == torch.tensor(sequence, device=tail.device)).all(dim=1)
        return stopped


def _check_row_keys(row_keys: torch.Tensor | None, generator: torch.Generator | None, input_ids: torch.Tensor):
    if row_keys is None:
        return
    if generator is not None:
        raise GenerationError("pass either generator or row_keys, not both: each is a source of sampling randomness")
    if row_keys.dtype != torch.int64 or row_keys.shape != input_ids.shape[:1] or bool((row_keys < 0).any()):
        raise GenerationError(f"row_keys must be one int64 key >= 0 per row, shape [{input_ids.shape[0]}]; "
                              f"got {row_keys.dtype} of shape {list(row_keys.shape)}")


def _as_list(value) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)


def _bucket(length: int, multiple: int) -> int:
    return math.ceil(length / multiple) * multiple


def _left_pad(input_ids: torch.Tensor, attention_mask: torch.Tensor, multiple: int, pad: int):
    """More left padding, up to a multiple of `multiple` columns: masked out, so nothing changes."""
    extra = _bucket(input_ids.shape[1], multiple) - input_ids.shape[1]
    if not extra:
        return input_ids, attention_mask
    return (torch.nn.functional.pad(input_ids, (extra, 0), value=pad),
            torch.nn.functional.pad(attention_mask, (extra, 0), value=0))


def generate(model: RewrittenGptOss, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None,
             *, max_new_tokens: int, return_logprobs: bool = False, **options):
    """Token ids [B, prompt + new] like transformers' `generate`; with `return_logprobs` a GenerationOutput.

    Options: do_sample, temperature, top_k, top_p, min_p, repetition_penalty, eos_token_id, pad_token_id,
    stop_sequences (lists of token ids), generator or row_keys, on_token (`GenerationEngine.generate`). Anything
    else is refused with the list of what is accepted.
    """
    accepted = {"do_sample", "temperature", "top_k", "top_p", "min_p", "repetition_penalty", "eos_token_id",
                "pad_token_id", "stop_sequences", "generator", "row_keys", "on_token"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise GenerationError(f"unknown generation option {', '.join(unknown)}; accepted: {', '.join(sorted(accepted))}")
    engine = getattr(model, "_generation_engine", None)  # kept on the model: compiled steps and caches live
    if engine is None:                                      # as long as the model does, and no longer
        engine = model._generation_engine = GenerationEngine(model)
    output = engine.generate(input_ids, attention_mask, max_new_tokens=max_new_tokens, **options)
    return output if return_logprobs else output.sequences
