"""Built-in model presets: a tiny seeded model for tests and full gpt-oss shapes for benchmarks.

Nothing is downloaded: every preset is a `GptOssConfig` plus a seed, and its weights are random; its tokenizer is
built from the special-token layout below (`tokenizer_build`).
"""

from __future__ import annotations

import torch
from transformers import GenerationConfig, GptOssConfig, GptOssForCausalLM

from .errors import UnsupportedModelError
from .tokenizer_build import BOS_TOKEN, EOS_TOKEN, PAD_TOKEN, TokenizerLayout


def _yarn(original_max_position_embeddings: int) -> dict:
    """gpt-oss's YaRN RoPE parameters."""
    return {
        "rope_type": "yarn",
        "rope_theta": 150000.0,
        "factor": 32.0,
        "beta_fast": 32.0,
        "beta_slow": 1.0,
        "original_max_position_embeddings": original_max_position_embeddings,
        "truncate": False,
    }


# The tiny model exercises every structural feature of gpt-oss at CPU-test size: alternating sliding and
# full layers with a window shorter than test prompts, GQA, top-k routing over a handful of experts,
# YaRN RoPE, biases on attention, and attention sinks.
_TINY = dict(
    vocab_size=512,
    hidden_size=64,
    intermediate_size=64,
    num_hidden_layers=4,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    num_local_experts=4,
    num_experts_per_tok=2,
    sliding_window=8,
    max_position_embeddings=4096,
    layer_types=["sliding_attention", "full_attention"] * 2,
    rope_parameters=_yarn(original_max_position_embeddings=128),
    pad_token_id=0,
    eos_token_id=1,
    bos_token_id=2,
    # Larger than gpt-oss's 0.02 so that a 64-wide model has non-trivial attention and routing.
    initializer_range=0.15,
)

_GPT_OSS_20B = dict(
    vocab_size=201088,
    hidden_size=2880,
    intermediate_size=2880,
    num_hidden_layers=24,
    num_attention_heads=64,
    num_key_value_heads=8,
    head_dim=64,
    num_local_experts=32,
    num_experts_per_tok=4,
    sliding_window=128,
    max_position_embeddings=131072,
    layer_types=["sliding_attention", "full_attention"] * 12,
    rope_parameters=_yarn(original_max_position_embeddings=4096),
    pad_token_id=199999,
    eos_token_id=200002,
)

_GPT_OSS_120B = {**_GPT_OSS_20B, "num_hidden_layers": 36, "num_local_experts": 128,
                 "layer_types": ["sliding_attention", "full_attention"] * 18}

PRESETS: dict[str, dict] = {"tiny": _TINY, "gpt-oss-20b": _GPT_OSS_20B, "gpt-oss-120b": _GPT_OSS_120B}

PRESET_SEED = 0

# The tiny preset's ids 0, 1 and 2 (its config's pad, eos and bos) are gpt-oss's pad, eos and bos tokens; its other
# harmony tokens take the top ids, so that ids from 3 up to them are ordinary (the toy tasks' prompts and targets).
_TINY_SPECIAL_TOKENS = {0: PAD_TOKEN, 1: EOS_TOKEN, 2: BOS_TOKEN, 506: "<|constrain|>", 507: "<|channel|>",
                        508: "<|start|>", 509: "<|end|>", 510: "<|message|>", 511: "<|call|>"}
# gpt-oss's own ids (o200k_harmony); every other id from 199998 on is a reserved special token.
_GPT_OSS_SPECIAL_TOKENS = {199998: BOS_TOKEN, 199999: PAD_TOKEN, 200002: EOS_TOKEN, 200003: "<|constrain|>",
                           200005: "<|channel|>", 200006: "<|start|>", 200007: "<|end|>", 200008: "<|message|>",
                           200012: "<|call|>", 200018: "<|endofprompt|>"}
_SPECIAL_TOKENS = {"tiny": (_TINY_SPECIAL_TOKENS, None), "gpt-oss-20b": (_GPT_OSS_SPECIAL_TOKENS, 199998),
                   "gpt-oss-120b": (_GPT_OSS_SPECIAL_TOKENS, 199998)}
# gpt-oss's generation_config.json stops on these, in this order: the end of a reply, of a text, and a tool call.
HARMONY_STOP_TOKENS = (EOS_TOKEN, PAD_TOKEN, "<|call|>")


def preset_config(name: str) -> GptOssConfig:
    """The `GptOssConfig` of a named preset."""
    if name not in PRESETS:
        raise UnsupportedModelError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return GptOssConfig(**PRESETS[name])


def preset_tokenizer_layout(name: str) -> TokenizerLayout:
    """Where the preset's tokenizer puts its special tokens, over the preset's vocabulary size."""
    config = preset_config(name)
    special_tokens, reserved_from = _SPECIAL_TOKENS[name]
    return TokenizerLayout(vocab_size=config.vocab_size, special_tokens=special_tokens, reserved_from=reserved_from,
                           model_max_length=config.max_position_embeddings)


def preset_generation_config(name: str) -> GenerationConfig:
    """The generation_config.json of a preset's build: gpt-oss's bos and pad, and its harmony stops as eos."""
    layout = preset_tokenizer_layout(name)
    return GenerationConfig(bos_token_id=layout.token_id(BOS_TOKEN), pad_token_id=layout.token_id(PAD_TOKEN),
                            eos_token_id=[layout.token_id(text) for text in HARMONY_STOP_TOKENS])


def build_preset(
    name: str,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device = "cpu",
    attn_implementation: str = "eager",
    experts_implementation: str = "eager",
) -> GptOssForCausalLM:
    """A `GptOssForCausalLM` with the preset's shape and weights drawn from a fixed seed.

    The same name, dtype and device always give the same weights. Large presets are initialised
    directly on `device` in `dtype`, so a 20b model never exists in float32 on the host.
    """
    config = preset_config(name)
    config._attn_implementation = attn_implementation
    config._experts_implementation = experts_implementation
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(PRESET_SEED)
    try:
        with torch.device(device):
            model = GptOssForCausalLM._from_config(config, dtype=dtype)
    finally:
        torch.random.set_rng_state(generator_state)
    return model.eval()
