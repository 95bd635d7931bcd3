"""One GRPO step on the gpt-oss-20b shape: ours against the transformers + peft way, same run, same card.

Both: bf16 preset weights (random), LoRA r=16 on the attention projections (q, k, v, o), 8 prompts x 8
generations, 256 new tokens sampled at temperature 1, the TRL loss (dapo, beta 0) over micro-batches of
8 sequences with gradient accumulation. Phases timed separately, with peak GPU memory of each:
  generation  ours: runtime.generate (compiled decode, CUDA graphs) | HF: peft model .generate()
  logprobs    the policy's per-token log-probs with grad (ours: chunked lm_head, activation checkpointing;
              HF: model(...).logits with gradient checkpointing, as TRL computes them)
  backward    loss.backward() over the micro-batches
The first step of each is a warm-up (compilation); the second is timed.

    python tools/bench_grpo_step.py
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
from peft import LoraConfig, get_peft_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rewrite import RewrittenGptOss, build_preset, capture  # noqa: E402
from rewrite.pipeline import resolve_pass_names, run_pipeline  # noqa: E402
from rewrite.spec import graph_spec, pad_aware_position_ids  # noqa: E402
from runtime.generate import GenerationEngine  # noqa: E402
from runtime.grpo.logprobs import completion_logprobs  # noqa: E402
from runtime.grpo.loss import compute_loss  # noqa: E402

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj"]


def phase(results: dict, name: str, function):
    on_cuda = torch.cuda.is_available()
    if on_cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    value = function()
    if on_cuda:
        torch.cuda.synchronize()
        results[f"{name}_peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        # what the allocator held, CUDA graph pools included: what the card must have free
        results[f"{name}_reserved_gib"] = round(torch.cuda.max_memory_reserved() / 2**30, 2)
    results[f"{name}_s"] = round(time.perf_counter() - start, 3)
    return value


def grpo_loss(logps, completion_mask, advantages, new_tokens):
    loss, _ = compute_loss(logps, None, None, advantages, completion_mask, loss_type="dapo", beta=0.0,
                           epsilon_low=0.2, epsilon_high=0.2, max_completion_length=new_tokens)
    return loss


def step(generate, logprobs, parameters, prompt_ids, prompt_mask, args) -> dict:
    results, losses = forward_phases(generate, logprobs, prompt_ids, prompt_mask, args)
    return backward_phase(results, losses, parameters)


def forward_phases(generate, logprobs, prompt_ids, prompt_mask, args) -> tuple[dict, list[torch.Tensor]]:
    """The step's generation and log-probs phases: (their results, the micro-batches' losses)."""
    results = {}
    sequences, completion_mask = phase(results, "generation", lambda: generate(prompt_ids, prompt_mask))
    rewards = torch.rand(sequences.shape[0], device=sequences.device)  # the reward's value does not change the cost
    advantages = (rewards.view(-1, args.generations) - rewards.view(-1, args.generations).mean(1, keepdim=True))
    advantages = advantages.flatten()
    full_mask = torch.cat([prompt_mask, completion_mask], dim=1)
    micro = args.micro_batch
    losses = []

    def forward_all():
        for start in range(0, sequences.shape[0], micro):
            rows = slice(start, start + micro)
            logps = logprobs(sequences[rows], full_mask[rows], prompt_ids.shape[1])
            losses.append(grpo_loss(logps, completion_mask[rows], advantages[rows], args.new_tokens)
                          * (logps.shape[0] / sequences.shape[0]))

    phase(results, "logprobs", forward_all)
    results["completion_tokens"] = int(completion_mask.sum())
    return results, losses


def backward_phase(results: dict, losses: list[torch.Tensor], parameters) -> dict:
    phase(results, "backward", lambda: [loss.backward() for loss in losses])
    results["total_s"] = round(results["generation_s"] + results["logprobs_s"] + results["backward_s"], 3)
    for parameter in parameters:
        parameter.grad = None
    return results


def sampling_options(args) -> dict:
    return dict(do_sample=True, temperature=1.0, max_new_tokens=args.new_tokens)


def ours_phases(ours: RewrittenGptOss, args, **memory_options) -> tuple:
    """`step`'s (generate, logprobs, trainable parameters) for our policy (LoRA already attached);
    `memory_options` go to `completion_logprobs` (e.g. activation_offload)."""
    engine = GenerationEngine(ours)
    sampling = sampling_options(args)

    def ours_generate(ids, mask):
        output = engine.generate(ids, mask, **sampling)
        ours_generate.cache_addresses.append(next(iter(engine._cache_pool.values()))[0].data_ptr())
        engine.release_caches()  # as the trainer does: training gets the KV caches' memory
        return output.sequences, output.completion_mask

    ours_generate.cache_addresses = []  # where each step's caches were: a new address re-records the CUDA graph

    def ours_logprobs(sequences, mask, prompt_length):
        return completion_logprobs(ours, sequences, mask, prompt_length, temperature=1.0,
                                   chunk_size=args.logprob_chunk_size,
                                   gradient_checkpointing=True, **memory_options)

    return ours_generate, ours_logprobs, [p for p in ours.graph_module.parameters() if p.requires_grad]


def transformers_phases(hf, args) -> tuple:
    """`step`'s (generate, logprobs, trainable parameters) for a transformers + peft model, as TRL runs it."""
    hf.gradient_checkpointing_enable()
    sampling = sampling_options(args)

    def hf_generate(ids, mask):
        hf.eval()  # with gradient checkpointing in train mode transformers turns the KV cache off
        with torch.no_grad():
            sequences = hf.generate(input_ids=ids, attention_mask=mask, min_new_tokens=args.new_tokens,
                                    pad_token_id=0, **sampling)
        hf.train()
        return sequences, torch.ones_like(sequences[:, ids.shape[1]:])

    def hf_logprobs(sequences, mask, prompt_length):
        logits = hf(input_ids=sequences, attention_mask=mask, position_ids=pad_aware_position_ids(mask),
                    use_cache=False).logits[:, prompt_length - 1 : -1].float()
        return logits.log_softmax(-1).gather(-1, sequences[:, prompt_length:, None]).squeeze(-1)

    hf.train()
    return hf_generate, hf_logprobs, [p for p in hf.parameters() if p.requires_grad]


def prompts(args, vocab_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`args.prompts` random prompts of 64 tokens, each repeated `args.generations` times, and their mask."""
    prompt_ids = torch.randint(3, vocab_size // 2, (args.prompts, 64), device=args.device)
    prompt_ids = prompt_ids.repeat_interleave(args.generations, dim=0)
    return prompt_ids, torch.ones_like(prompt_ids)


def timed_step(phases: tuple, prompt_ids, prompt_mask, args, warm_up: bool = True) -> dict:
    """One warm-up step (compilation) unless `warm_up` is False, then the timed one."""
    if warm_up:
        step(*phases, prompt_ids, prompt_mask, args)
    return step(*phases, prompt_ids, prompt_mask, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="gpt-oss-20b")
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--logprob-chunk-size", type=int, default=1024,
                        help="ours: completion tokens per lm_head chunk")
    parser.add_argument("--skip-transformers", action="store_true")
    parser.add_argument("--device", default="cuda", help="cuda; cpu only to smoke-test the script on a tiny preset")
    args = parser.parse_args()
    torch.manual_seed(0)
    dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
    model = build_preset(args.preset, dtype=dtype, device=args.device, experts_implementation="grouped_mm")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    graph_module = capture(model)
    run_pipeline(graph_module, resolve_pass_names("default"))
    ours = RewrittenGptOss(graph_module, graph_spec(graph_module))
    lora = LoraConfig(r=16, lora_alpha=32, target_modules=TARGETS)
    ours.graph_module = get_peft_model(ours.graph_module, lora)
    prompt_ids, prompt_mask = prompts(args, model.config.vocab_size)
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    result = {"device": device_name, "torch": torch.__version__, "preset": args.preset,
              "prompts": args.prompts, "generations": args.generations, "new_tokens": args.new_tokens,
              "lora_r": 16, "targets": TARGETS, "micro_batch": args.micro_batch}
    result["ours"] = timed_step(ours_phases(ours, args), prompt_ids, prompt_mask, args)
    print(json.dumps(result["ours"]), file=sys.stderr, flush=True)

    if not args.skip_transformers:
        hf_phases = transformers_phases(get_peft_model(model, lora), args)
        result["transformers_peft"] = timed_step(hf_phases, prompt_ids, prompt_mask, args)
        result["speedup_total"] = round(result["transformers_peft"]["total_s"] / result["ours"]["total_s"], 2)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
