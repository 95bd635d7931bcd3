"""Built-in model presets: a tiny seeded model for tests and full gpt-oss shapes for benchmarks.

Nothing is downloaded: every preset is a `GptOssConfig` plus a seed, and its weights are random.
"""

from __future__ import annotations

import torch
from transformers import GptOssConfig, GptOssForCausalLM

from .errors import UnsupportedModelError


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


def preset_config(name: str) -> GptOssConfig:
    """The `GptOssConfig` of a named preset."""
    if name not in PRESETS:
        raise UnsupportedModelError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return GptOssConfig(**PRESETS[name])


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
