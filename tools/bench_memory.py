"""Training memory on the gpt-oss-20b shape: ours (bf16, MXFP4, nf4) against transformers + peft, one run, one card.

Part `step`: one GRPO step (8 prompts x 8 generations, 512 new tokens, LoRA r=16 on the attention
projections), seconds and peak GPU memory per phase (generation, log-probs, backward): the step of
tools/bench_grpo_step.py for ours_bf16, ours_nf4, hf_bf16 and hf_4bit (transformers' BitsAndBytesConfig, nf4 with
double quantization: it quantizes the linear layers; the 3-D expert tensors stay bf16).
Part `longest`: the longest single sequence that trains (forward + backward, LoRA r=16, batch 1), doubling then
bisecting to 1024 tokens with tools/bench_long_context.py's search, and its peak memory: ours_bf16 and ours_nf4
(chunked log-probs, per-layer gradient checkpointing, and the activation and embedding offload options) against
hf_eager and hf_flex (peft LoRA, gradient checkpointing, the loss from `labels`).
Weights are random (the preset's). Ours is captured and rewritten in memory with the passes of `rewrite build`
(`--quantize nf4` for nf4); transformers' model is the preset itself, except hf_4bit, which BitsAndBytesConfig
quantizes while loading the preset saved to --work-dir. Each candidate is built on its own and freed before the
next; one that fails is reported with its error. The step is timed after one warm-up step for ours (compilation);
transformers' eager step compiles nothing and is timed on its first step.

    python tools/bench_memory.py --part step
    python tools/bench_memory.py --part longest --candidates ours_bf16 ours_nf4 hf_eager hf_flex
    python tools/bench_memory.py --device cpu        # smoke test: tiny preset, float32, short lengths
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
import traceback
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rewrite import RewrittenGptOss, build_preset  # noqa: E402
from runtime.grpo.logprobs import completion_logprobs  # noqa: E402
from runtime.grpo.memory import ActivationOffload, offload_embedding  # noqa: E402
from tools.bench_grpo_step import (  # noqa: E402
    TARGETS,
    backward_phase,
    forward_phases,
    ours_phases,
    prompts,
    timed_step,
    transformers_phases,
)
from tools.bench_long_context import longest  # noqa: E402
from tools.memory_peak import PeakAttribution  # noqa: E402
from tools.rewritten_preset import rewritten_preset  # noqa: E402

CANDIDATES = {
    "step": ["ours_bf16", "ours_mxfp4", "ours_nf4", "hf_bf16", "hf_4bit"],
    "longest": ["ours_bf16", "ours_mxfp4", "ours_nf4", "hf_eager", "hf_flex"],
}
QUANTIZE_OF = {"ours_bf16": None, "ours_nf4": "nf4", "ours_mxfp4": "mxfp4"}
GPU_SETTINGS = dict(preset="gpt-oss-20b", prompts=8, generations=8, new_tokens=512, micro_batch=8,
                    granularity=1024, limit=131072)
CPU_SETTINGS = dict(preset="tiny", prompts=2, generations=2, new_tokens=8, micro_batch=4, granularity=64, limit=256)


def lora_config() -> LoraConfig:
    return LoraConfig(r=16, lora_alpha=32, target_modules=TARGETS)


def ours_policy(args, quantize: str | None) -> RewrittenGptOss:
    """Our rewritten model with LoRA, and the embedding offloaded when asked."""
    model = rewritten_preset(args.preset, args.dtype, args.device, quantize)
    model.graph_module = get_peft_model(model.graph_module, lora_config())
    if args.embedding_offload:
        offload_embedding(model)
    return model


def transformers_policy(args, attention: str = "eager", four_bit: bool = False):
    """transformers' model of the preset (4-bit through BitsAndBytesConfig, which loads from a checkpoint
    directory: the preset is saved to --work-dir first), with peft LoRA on top."""
    if not four_bit:
        model = build_preset(args.preset, dtype=args.dtype, device=args.device, attn_implementation=attention,
                             experts_implementation="grouped_mm" if args.device == "cuda" else "eager")
        return get_peft_model(model, lora_config())
    from transformers import BitsAndBytesConfig, GptOssForCausalLM

    quantization = BitsAndBytesConfig(
        load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=args.dtype,
    )
    model = GptOssForCausalLM.from_pretrained(
        saved_preset(args), dtype=args.dtype, device_map=args.device, attn_implementation=attention,
        experts_implementation="grouped_mm" if args.device == "cuda" else "eager", quantization_config=quantization,
    )
    return get_peft_model(model, lora_config())


def saved_preset(args) -> Path:
    """The preset saved as a transformers checkpoint in --work-dir (kept between runs)."""
    out = Path(args.work_dir) / f"{args.preset}-{str(args.dtype).removeprefix('torch.')}"
    if not (out / "config.json").is_file():
        print(f"saving {out}", file=sys.stderr, flush=True)
        build_preset(args.preset, dtype=args.dtype, device=args.device).save_pretrained(out)
        free_memory(args)
    return out


def free_memory(args) -> None:
    gc.collect()
    if args.device == "cuda":
        torch.cuda.empty_cache()


def run_step(name: str, args) -> dict:
    if name.startswith("ours"):
        ours = ours_policy(args, QUANTIZE_OF[name])
        vocab, module = ours.spec.vocab_size, ours.graph_module
        phases = ours_phases(ours, args, activation_offload=activation_offload(ours, args))
    else:
        module = transformers_policy(args, four_bit=name == "hf_4bit")
        vocab = module.config.vocab_size
        phases = transformers_phases(module, args)
    # transformers' step compiles nothing, so it needs no warm-up step: one step, timed
    if args.attribute_peak:
        result = attributed_step(phases, prompts(args, vocab), args, name.startswith("ours"), module)
    else:
        result = timed_step(phases, *prompts(args, vocab), args, warm_up=name.startswith("ours"))
    peaks = [value for key, value in result.items() if key.endswith("_peak_gib")]
    addresses = getattr(phases[0], "cache_addresses", None)
    if addresses:  # ours: how many places the KV caches took over the steps (1: the CUDA graph replayed as recorded)
        result["kv_cache_addresses"] = len(set(addresses))
    return {**result, "peak_gib": max(peaks, default=None)}


def attributed_step(phases: tuple, prompt_tensors: tuple, args, warm_up: bool, module: torch.nn.Module) -> dict:
    """`timed_step` with the allocations of its generation and log-probs phases recorded (the backward pass is not:
    torch's stack recording breaks the autograd engine there): what is alive at their peak, by allocation site."""
    generate, logprobs, parameters = phases
    if warm_up:
        timed_step(phases, *prompt_tensors, args, warm_up=False)
    with PeakAttribution() as peak:
        results, losses = forward_phases(generate, logprobs, *prompt_tensors, args)
    results["peak_attribution"] = peak.summary({"parameters and buffers": [*module.parameters(), *module.buffers()]})
    return backward_phase(results, losses, parameters)


def run_longest(name: str, args) -> dict:
    if name.startswith("ours"):
        ours = ours_policy(args, QUANTIZE_OF[name])
        ours.train()
        offload = activation_offload(ours, args)

        def train_step(ids):
            logps = completion_logprobs(ours, ids, torch.ones_like(ids), 1, temperature=1.0,
                                        chunk_size=args.logprob_chunk_size,
                                        gradient_checkpointing=True, activation_offload=offload)
            (-logps.mean()).backward()

        vocab = ours.spec.vocab_size
    else:
        hf = transformers_policy(args, attention={"hf_eager": "eager", "hf_flex": "flex_attention"}[name])
        hf.gradient_checkpointing_enable()
        hf.train()

        def train_step(ids):
            hf(input_ids=ids, labels=ids, use_cache=False).loss.backward()

        vocab = hf.config.vocab_size
    start = args.start if name.startswith("ours") else None
    return longest(train_step, vocab, args.limit, args.granularity, args.device, start)


def activation_offload(model, args) -> ActivationOffload | None:
    return ActivationOffload(list(model.parameters())) if args.activation_offloading else None


def run_candidate(part: str, name: str, args) -> dict:
    start = time.perf_counter()
    try:
        result = (run_step if part == "step" else run_longest)(name, args)
    except Exception as error:  # one candidate failing (no bitsandbytes, out of memory) does not end the run
        where = [f"{frame.name} ({Path(frame.filename).name}:{frame.lineno})"
                 for frame in traceback.extract_tb(error.__traceback__)[-6:]]
        result = {"error": f"{type(error).__name__}: {str(error)[:300]}", "where": where}
    result["seconds"] = round(time.perf_counter() - start, 1)
    torch._dynamo.reset()  # drops compiled code and its CUDA graph pools with the candidate
    free_memory(args)
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["step", "longest", "all"], default="all")
    parser.add_argument("--candidates", nargs="+", help="a subset of the part's candidates (default: all of them)")
    parser.add_argument("--device", default="cuda", help="cuda; cpu to smoke-test the script on the tiny preset")
    parser.add_argument("--work-dir", default="/tmp/bench_memory", help="where hf_4bit's saved preset is kept")
    parser.add_argument("--activation-offloading", action=argparse.BooleanOptionalAction, default=True,
                        help="ours: layer inputs kept for the backward pass in pinned CPU memory")
    parser.add_argument("--embedding-offload", action=argparse.BooleanOptionalAction, default=True,
                        help="ours: the embedding table in pinned CPU memory")
    parser.add_argument("--memory-cap-gib", type=float,
                        help="cap this process's GPU memory (torch.cuda.set_per_process_memory_fraction), e.g. 80")
    parser.add_argument("--attribute-peak", action="store_true",
                        help="part step, cuda: record the timed step's generation and log-probs allocations and "
                             "name what holds their peak")
    parser.add_argument("--start", type=int, help="ours: the first length of the doubling (default --granularity)")
    parser.add_argument("--logprob-chunk-size", type=int, default=256,
                        help="ours: completion tokens per lm_head chunk (GRPOConfig.logprob_chunk_size)")
    for name, value in GPU_SETTINGS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=None,
                            help=f"default {value} on cuda, {CPU_SETTINGS[name]} on cpu")
    args = parser.parse_args()
    if args.attribute_peak and (args.device != "cuda" or args.part != "step"):
        parser.error("--attribute-peak records CUDA allocations of the step: pass it with --part step on cuda")
    for name, value in (GPU_SETTINGS if args.device == "cuda" else CPU_SETTINGS).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    return args


def main() -> None:
    args = parse_args()
    torch.manual_seed(0)
    if args.memory_cap_gib is not None:
        total = torch.cuda.get_device_properties(0).total_memory
        torch.cuda.set_per_process_memory_fraction(args.memory_cap_gib * 2**30 / total)
    result = {
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu", "torch": torch.__version__,
        "preset": args.preset, "dtype": str(args.dtype).removeprefix("torch."), "lora_r": 16, "targets": TARGETS,
        "ours_options": {"gradient_checkpointing": "per layer", "activation_offloading": args.activation_offloading,
                         "embedding_offload": args.embedding_offload,
                         "logprob_chunk_size": args.logprob_chunk_size},
    }
    settings = {"step": ["prompts", "generations", "new_tokens", "micro_batch"], "longest": ["granularity", "limit"]}
    for part in ("step", "longest") if args.part == "all" else (args.part,):
        names = [name for name in CANDIDATES[part] if args.candidates is None or name in args.candidates]
        result[part] = {name: getattr(args, name) for name in settings[part]}
        for name in names:
            result[part][name] = run_candidate(part, name, args)
            print(json.dumps({part: {name: result[part][name]}}), file=sys.stderr, flush=True)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
