"""Benchmark: our generation engine against transformers' `generate` on the gpt-oss-20b shape.

One run builds the preset with random bf16 weights on the GPU, captures and rewrites it in memory,
then times both engines on the same left-padded prompts (32-128 tokens), sampling 128 new tokens per
row with no early stop, for each batch size. Prints one JSON object: tok/s of each, the ratio, peak
memory, warm-up/compile time, and our share of the weight-bandwidth roofline.

    python tools/bench_generate.py --batch-sizes 8 64
    python tools/bench_generate.py --batch-sizes 1 8 64 --quantize mxfp4 nf4 --skip-transformers
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

import torch
from torch._dynamo.utils import counters

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from passes import combo_kernels  # noqa: E402
from rewrite import RewrittenGptOss, build_preset, capture  # noqa: E402
from rewrite.pipeline import quantize_pass_names, resolve_pass_names, run_pipeline  # noqa: E402
from rewrite.spec import graph_spec  # noqa: E402
from runtime.generate import GenerationEngine  # noqa: E402

BANDWIDTH_BYTES_PER_S = {"H100": 3.35e12, "H200": 4.8e12}


def prompts(batch: int, vocab: int, generator: torch.Generator):
    lengths = torch.randint(32, 129, (batch,), generator=generator)
    width = int(lengths.max())
    ids = torch.randint(0, vocab - 1000, (batch, width), generator=generator)
    mask = (torch.arange(width)[None, :] >= (width - lengths)[:, None]).long()
    return ids.masked_fill(mask == 0, 0).cuda(), mask.cuda()


def roofline_tokens_per_s(module: torch.nn.Module, config, batch: int) -> float:
    """Tokens/s if each decode step only had to read the weights it touches once from HBM (in the form `module`
    stores them: bf16, or packed 4-bit with its scales)."""
    tensors = [*module.named_parameters(), *module.named_buffers()]
    expert_bytes = sum(t.numel() * t.element_size() for n, t in tensors if ".experts." in n)
    dense_bytes = sum(t.numel() * t.element_size() for n, t in tensors if ".experts." not in n)
    embedding = module.get_submodule("model.embed_tokens").weight
    dense_bytes -= embedding.numel() * embedding.element_size()  # the embedding is gathered, not read whole
    experts, top_k = config.num_local_experts, config.num_experts_per_tok
    touched = experts * (1 - (1 - top_k / experts) ** batch)  # expected distinct experts per layer
    step_bytes = dense_bytes + expert_bytes * touched / experts
    name = torch.cuda.get_device_name()
    bandwidth = next((v for k, v in BANDWIDTH_BYTES_PER_S.items() if k in name), 3.35e12)
    return batch * bandwidth / step_bytes


def timed(function):
    torch.cuda.synchronize()
    start = time.perf_counter()
    result = function()
    torch.cuda.synchronize()
    return result, time.perf_counter() - start


def profile_summary(function, rows: int = 30) -> list[dict]:
    """The kernels that take the most GPU time in one call of `function`, from torch.profiler."""
    activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
    with torch.profiler.profile(activities=activities) as profiler:
        timed(function)
    events = sorted(profiler.key_averages(), key=lambda event: event.device_time_total, reverse=True)
    return [{"name": event.key[:90], "calls": event.count, "gpu_ms": round(event.device_time_total / 1e3, 2),
             "cpu_ms": round(event.cpu_time_total / 1e3, 2)} for event in events[:rows]]


def measure_ours(engine, ids, mask, sampling, new_tokens, more_batches) -> dict:
    """Warm-up (compiles), then one timed run; then more batches of the same size to count recompiles."""
    row = {}
    run = partial(engine.generate, ids, mask, max_new_tokens=new_tokens, **sampling,
                  generator=torch.Generator("cuda").manual_seed(1))
    torch.cuda.reset_peak_memory_stats()
    graphs_before = counters["stats"]["unique_graphs"]
    _, row["warmup_s"] = timed(run)
    graphs_after_warmup = counters["stats"]["unique_graphs"]
    output, seconds = timed(run)
    for other_ids, other_mask in more_batches:
        engine.generate(other_ids, other_mask, max_new_tokens=new_tokens, **sampling)
    row["compiled_graphs_in_warmup"] = graphs_after_warmup - graphs_before
    row["recompiles_after_warmup"] = counters["stats"]["unique_graphs"] - graphs_after_warmup
    row["tok_s"] = int(output.completion_mask.sum()) / seconds
    row["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="gpt-oss-20b")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--passes", default="default")
    parser.add_argument("--skip-transformers", action="store_true")
    parser.add_argument("--quantize", nargs="*", default=[], choices=["mxfp4", "nf4"],
                        help="also time ours with these 4-bit experts, beside ours bf16 in the same run")
    parser.add_argument("--compare-combo-kernels", action="store_true",
                        help="also time ours with the combo_kernels pass's inductor options")
    parser.add_argument("--profile", action="store_true",
                        help="add the top CUDA kernels of 16 decode steps, for each engine")
    args = parser.parse_args()

    start = time.perf_counter()
    model = build_preset(args.preset, dtype=torch.bfloat16, device="cuda", experts_implementation="grouped_mm")
    build_seconds = time.perf_counter() - start
    graph_module, capture_seconds = timed(lambda: capture(model))
    reports = run_pipeline(graph_module, resolve_pass_names(args.passes))
    ours = RewrittenGptOss(graph_module, graph_spec(graph_module))
    engines = {"ours": GenerationEngine(ours)}
    for quantize in args.quantize:  # each on its own capture: the passes rewrite in place
        quantized = capture(model)
        run_pipeline(quantized, resolve_pass_names(args.passes) + quantize_pass_names(quantize))
        engines[f"ours_{quantize}"] = GenerationEngine(RewrittenGptOss(quantized, graph_spec(quantized)))
    if args.compare_combo_kernels:
        combo_kernels.apply(graph_module)
        engines["ours_combo_kernels"] = GenerationEngine(ours)
    generator = torch.Generator().manual_seed(0)
    sampling = dict(do_sample=True, temperature=1.0, top_p=1.0)
    results = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "preset": args.preset,
               "passes": [r.pass_name for r in reports], "build_s": build_seconds, "capture_s": capture_seconds,
               "new_tokens": args.new_tokens, "runs": []}
    for batch in args.batch_sizes:
        ids, mask = prompts(batch, model.config.vocab_size, generator)
        more_batches = [prompts(batch, model.config.vocab_size, generator) for _ in range(2)]
        row = {"batch": batch, "prompt_lengths": mask.sum(1).tolist()}
        for name, engine in engines.items():
            for key, value in measure_ours(engine, ids, mask, sampling, args.new_tokens, more_batches).items():
                row[f"{name}_{key}"] = value
            row[f"{name}_roofline_tok_s"] = roofline_tokens_per_s(engine.model.graph_module, model.config, batch)
            row[f"{name}_roofline_share"] = row[f"{name}_tok_s"] / row[f"{name}_roofline_tok_s"]
            row[f"{name}_over_bf16"] = row[f"{name}_tok_s"] / row["ours_tok_s"]
        if not args.skip_transformers:
            hf = partial(model.generate, input_ids=ids, attention_mask=mask, max_new_tokens=args.new_tokens,
                         min_new_tokens=args.new_tokens, pad_token_id=0, **sampling)
            torch.cuda.reset_peak_memory_stats()
            _, row["transformers_warmup_s"] = timed(hf)
            output, seconds = timed(hf)
            row["transformers_tok_s"] = batch * args.new_tokens / seconds
            row["transformers_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30
            row["ratio_ours_over_transformers"] = row["ours_tok_s"] / row["transformers_tok_s"]
        if args.profile:
            for name, engine in engines.items():
                row[f"{name}_profile"] = profile_summary(
                    partial(engine.generate, ids, mask, max_new_tokens=16, **sampling))
        results["runs"].append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
