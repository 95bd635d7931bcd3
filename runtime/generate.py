"""The generation engine: static KV cache, one prefill, then a (compiled) one-token decode step.

In the spirit of gpt-fast: the cache is a list of tensors sized from the request (rounded up to a bucket so batches
of similar length share compiled code), the prefill and `decode_one_token` (`runtime.decode_step`) are plain
functions, the loop is `decode_n_tokens` (`runtime.decode_loop`) and sampling is `runtime.sampling`.
`GenerationEngine.generate` is those parts in order: check the request (`runtime.generation_request`), prefill the
prompts into the caches, decode, trim. Output follows transformers' `generate`: prompt plus completion, left padding
kept, finished rows padded with `pad_token_id`, stopping when every row is done. Sampling draws from a `generator`,
or with `row_keys` from noise keyed per row (`runtime.keyed_noise`): a row then samples the same tokens in any batch.

With a `lockstep_group` (processes whose model calls are collectives, as FSDP's per-layer all-gathers are), every
process of the group runs the same number of decode steps: the periodic "has every row stopped?" check is combined
over the group, so decoding goes on until every process's rows have stopped. A process's output is unchanged: the
steps after its own rows stopped are trimmed, as the steps between two checks always are.

Where the engine of `generate(model, ...)` lives: in a `weakref.WeakKeyDictionary` of this module keyed by the model,
and that engine refers to its model through a weak proxy, so the table keeps nothing alive: the compiled steps and
caches are made on the model's first `generate`, reused by the next ones, and dropped with the model. Callers that
want to control that lifetime (the trainer, benchmarks) hold a `GenerationEngine` of their own.
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Callable

import torch
import torch.distributed as dist

from rewrite.errors import GenerationError
from rewrite.model import RewrittenGptOss
from rewrite.spec import pad_aware_position_ids

from .decode_loop import GenerationOutput, decode_n_tokens, rows_unfinished, trimmed_output
from .decode_step import CachedDecodeStep, decode_one_token
from .generation_request import GenerationRequest
from .keyed_noise import gumbel_noise
from .lm_head import lm_head_bypassed
from .sampling import SamplingOptions

CACHE_BUCKET = 64
PROMPT_BUCKET = 64  # prompts are left-padded to a multiple of this, so batches share compiled prefill code
PREFILL_TOKENS = 1024  # prompt tokens per prefill group: bounds the prefill's activations, not the batch

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
        trims. It is called once the next decode step is queued, so the device has work while the caller reads it.
        A bad argument raises `GenerationError` before the model runs (`GenerationRequest.checked`)."""
        request = GenerationRequest.checked(
            self.model, input_ids, attention_mask, max_new_tokens=max_new_tokens,
            sampling=SamplingOptions(do_sample, temperature, top_k, top_p, min_p, repetition_penalty),
            eos_token_id=eos_token_id, pad_token_id=pad_token_id, stop_sequences=stop_sequences,
            generator=generator, row_keys=row_keys, on_token=on_token,
        )
        prompt_ids, prompt_mask = _left_pad(request.input_ids, request.attention_mask, PROMPT_BUCKET,
                                            request.pad_token_id)
        positions = pad_aware_position_ids(prompt_mask)
        caches = self._caches(request.batch_size, _bucket(prompt_ids.shape[1] + max_new_tokens, CACHE_BUCKET))
        logits = self._prefill(prompt_ids, prompt_mask, positions, caches)
        step = CachedDecodeStep(self._decode, self.model.graph_module, self.model.spec, prompt_mask, positions,
                                caches, max_new_tokens)
        decoded = decode_n_tokens(step, logits, request, prompt_ids, prompt_mask, noise=self._gumbel_noise,
                                  any_unfinished=self._any_unfinished)
        return trimmed_output(request.input_ids, decoded)

    def _prefill(self, prompt_ids, prompt_mask, positions, caches) -> torch.Tensor:
        """Run the prompts into the first slots of `caches`; returns the logits [B, vocab] of the last position.

        Rows are independent, so they go through the graph in equal groups of about `PREFILL_TOKENS` tokens (one row
        at least): the prefill's activations are one group's. Each group's graph fills caches as long as the prompts,
        which are then copied into its rows of the long ones, so no second set of full-length caches exists; and the
        head runs on the last position alone."""
        batch, length = prompt_ids.shape
        groups = math.ceil(batch / max(1, PREFILL_TOKENS // length))
        rows = math.ceil(batch / groups)
        logits = []
        for start in range(0, batch, rows):
            group = slice(start, start + rows)
            prompt_caches = self.model.empty_caches(prompt_ids[group].shape[0], length)
            with lm_head_bypassed(self.model) as lm_head:
                step = self.model.step(prompt_ids[group], prompt_mask[group], positions[group], 0, prompt_caches)
            logits.append(lm_head(step.logits[:, -1]))
            for cache, filled in zip(caches, step.caches, strict=True):
                cache[group, :, :length].copy_(filled)  # decode then writes in place: addresses stay put
            del step, prompt_caches  # before the next group's activations exist
        return torch.cat(logits)

    def _caches(self, batch: int, cache_length: int) -> list[torch.Tensor]:
        """One set of cache tensors per (batch, length) bucket, reused by every call until `release_caches`: CUDA
        graphs keep their addresses. Stale contents are harmless: a slot is written before any query may see it."""
        key = (batch, cache_length)
        if key not in self._cache_pool:
            self._cache_pool.clear()  # one bucket at a time: caches of a 20b model are large
            caches = self.model.empty_caches(batch, cache_length)
            if self.cuda_graphs:
                for cache in caches:
                    torch._dynamo.mark_static_address(cache)
            self._cache_pool[key] = caches
        return self._cache_pool[key]

    def release_caches(self) -> None:
        """Free the KV caches until the next `generate` allocates them again: the trainer calls this before it
        trains on what was generated, whose activations then take the caches' memory. The caches are views of one
        buffer (`RewrittenGptOss.empty_caches`), so once training has freed its tensors the allocator hands the
        next set the block they left, where the decode step's CUDA graph was recorded; should the block have moved,
        torch records the step again for the new address (a static input that moved), at the cost of a few steps."""
        self._cache_pool.clear()

    def _any_unfinished(self, unfinished: torch.Tensor) -> bool:
        """Whether a row is still generating, here or (with a lockstep group) on any process of the group."""
        if self.lockstep_group is None:
            return rows_unfinished(unfinished)
        flag = unfinished.any().to(torch.int32).reshape(1)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX, group=self.lockstep_group)
        return bool(flag)


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
             *, max_new_tokens: int, return_logprobs: bool = False, **options) -> torch.Tensor | GenerationOutput:
    """Token ids [B, prompt + new] like transformers' `generate`; with `return_logprobs` a GenerationOutput.

    Options: `GenerationEngine.generate`'s keywords (do_sample, temperature, top_k, top_p, min_p, repetition_penalty,
    eos_token_id, pad_token_id, stop_sequences, generator or row_keys, on_token). Anything else is refused with the
    list of what is accepted. The model's engine is kept as the module docstring says.
    """
    unknown = sorted(set(options) - GENERATION_OPTIONS)
    if unknown:
        raise GenerationError(
            f"unknown generation option {', '.join(unknown)}; accepted: {', '.join(sorted(GENERATION_OPTIONS))}"
        )
    output = _engine_of(model).generate(input_ids, attention_mask, max_new_tokens=max_new_tokens, **options)
    return output if return_logprobs else output.sequences


GENERATION_OPTIONS = frozenset(
    name for name, parameter in inspect.signature(GenerationEngine.generate).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name != "max_new_tokens"
)
"""The keywords `generate(model, ...)` passes on to `GenerationEngine.generate`."""

_ENGINES: weakref.WeakKeyDictionary[RewrittenGptOss, GenerationEngine] = weakref.WeakKeyDictionary()


def _engine_of(model: RewrittenGptOss) -> GenerationEngine:
    """`model`'s engine, made on its first `generate`. It holds the model through a weak proxy: an engine that held
    it strongly would keep its own key alive, and the table would then keep every model it has seen."""
    engine = _ENGINES.get(model)
    if engine is None:
        engine = _ENGINES[model] = GenerationEngine(weakref.proxy(model))
    return engine
