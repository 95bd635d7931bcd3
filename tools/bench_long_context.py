"""The longest single sequence whose forward and backward fit in GPU memory: ours against transformers.

For each candidate, on the same bf16 preset (random weights) and the same settings — batch 1, the
attention projection weights trainable (a stand-in for LoRA on attention: same gradients to keep for
every candidate), cross-entropy over all positions, no gradient checkpointing — the length doubles from
1024 until out of memory, then bisects down to 1024 tokens. Prints JSON with each candidate's longest
length and its peak memory.

    python tools/bench_long_context.py --candidates ours hf_eager hf_flex
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rewrite import RewrittenGptOss, build_preset, capture  # noqa: E402
from rewrite.pipeline import resolve_pass_names, run_pipeline  # noqa: E402
from rewrite.spec import graph_spec  # noqa: E402

GRANULARITY = 1024


def make_forward(name: str, model):
    if name == "ours":
        graph_module = capture(model)
        run_pipeline(graph_module, resolve_pass_names("default"))
        ours = RewrittenGptOss(graph_module, graph_spec(graph_module))
        return lambda ids: ours(ids)
    implementation = {"hf_eager": "eager", "hf_flex": "flex_attention"}[name]

    def hf_forward(ids):
        model.config._attn_implementation = implementation
        try:
            return model(input_ids=ids, use_cache=False).logits
        finally:
            model.config._attn_implementation = "eager"

    return hf_forward


def full_logits_step(forward):
    """A training step: cross-entropy over every position of `forward(ids)`'s logits, then backward."""
    def step(ids):
        logits = forward(ids)
        loss = torch.nn.functional.cross_entropy(logits[0, :-1].float(), ids[0, 1:])
        del logits
        loss.backward()

    return step


def attempt(train_step, length: int, vocab: int, device: str = "cuda") -> tuple[bool, float, str]:
    """Run `train_step` on one random sequence of `length` tokens; (fits, peak GiB, error). Out of memory and
    other errors are caught, and the memory they held is freed before the next attempt."""
    on_cuda = device == "cuda"
    gc.collect()
    if on_cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    ids = torch.randint(0, vocab, (1, length), device=device)
    peak = (lambda: torch.cuda.max_memory_allocated() / 2**30) if on_cuda else (lambda: 0.0)
    try:
        train_step(ids)
        if on_cuda:
            torch.cuda.synchronize()
        return True, peak(), ""
    except torch.OutOfMemoryError:
        return False, peak(), "out of memory"
    except Exception as error:  # a candidate that crashes is reported, not fatal to the benchmark
        return False, 0.0, f"{type(error).__name__}: {str(error)[:300]}"


def longest(train_step, vocab: int, limit: int, granularity: int = GRANULARITY, device: str = "cuda",
            start: int | None = None) -> dict:
    """The longest sequence `train_step` fits: doubling from `start` (default `granularity`) up to `limit`, then
    bisecting to `granularity`. Each attempt is also printed to stderr as it ends."""
    tried = []

    def record(length: int) -> bool:
        began = time.perf_counter()
        ok, peak, error = attempt(train_step, length, vocab, device)
        tried.append({"tokens": length, "fits": ok, "peak_gib": round(peak, 2), "error": error,
                      "seconds": round(time.perf_counter() - began, 1)})
        print(json.dumps({"attempt": tried[-1]}), file=sys.stderr, flush=True)
        return ok

    good, bad = 0, None
    length = start or granularity
    while length <= limit:
        ok = record(length)
        if not ok:
            bad = length
            break
        good = length
        length *= 2
    while bad is not None and bad - good > granularity:
        middle = (good + bad) // 2 // granularity * granularity
        good, bad = (middle, bad) if record(middle) else (good, middle)
    best = max((t for t in tried if t["fits"]), key=lambda t: t["tokens"], default=None)
    return {"longest_tokens": good, "peak_gib_at_longest": best and best["peak_gib"], "tried": tried}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="gpt-oss-20b")
    parser.add_argument("--candidates", nargs="+", default=["ours", "hf_eager", "hf_flex"])
    parser.add_argument("--limit", type=int, default=131072)
    args = parser.parse_args()
    model = build_preset(args.preset, dtype=torch.bfloat16, device="cuda", experts_implementation="grouped_mm")
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(".self_attn." in name and name.endswith("proj.weight"))
    results = {"device": torch.cuda.get_device_name(), "preset": args.preset, "candidates": {}}
    for name in args.candidates:
        start = time.perf_counter()
        step = full_logits_step(make_forward(name, model))
        results["candidates"][name] = longest(step, model.config.vocab_size, args.limit)
        results["candidates"][name]["seconds"] = round(time.perf_counter() - start, 1)
        model.zero_grad(set_to_none=True)
        print(json.dumps({name: results["candidates"][name]}), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
