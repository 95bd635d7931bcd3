"""The calling convention of a captured gpt-oss graph, shared by capture, emit, load and the runtime.

Inputs, in order:
  input_ids [B, T] int64; attention_mask [B, K] (1 = a real token in that cache slot, 0 = padding or an
  unwritten slot); position_ids [B, T] int64 (RoPE positions, pad-aware as transformers' generate makes
  them); write_position [] int64 (the cache slot of the first of the T new tokens, shared by all rows);
  then key_cache_0..key_cache_{L-1} and value_cache_0..value_cache_{L-1}, each [B, Hkv, K, D].
Outputs, in order:
  logits [B, T, V]; hidden_state_0..hidden_state_L ([B, T, hidden], transformers' `hidden_states`);
  then the updated key and value caches (functional: new tensors, the inputs are never written).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

SPEC_META_KEY = "gpt_oss_rewrite_spec"
RUNTIME_META_KEY = "gpt_oss_rewrite_runtime"  # options passes leave for the runtime (manifest "runtime")
QUANTIZATION_META_KEY = "gpt_oss_rewrite_quantization"  # how weights were quantized (manifest "quantization")


@dataclass(frozen=True)
class GraphSpec:
    num_layers: int
    layer_types: tuple[str, ...]
    sliding_window: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    hidden_size: int
    vocab_size: int
    max_position_embeddings: int
    dtype: str

    @property
    def input_names(self) -> list[str]:
        return ["input_ids", "attention_mask", "position_ids", "write_position", *self.cache_names]

    @property
    def cache_names(self) -> list[str]:
        layers = range(self.num_layers)
        return [f"key_cache_{i}" for i in layers] + [f"value_cache_{i}" for i in layers]

    @property
    def output_names(self) -> list[str]:
        hidden = [f"hidden_state_{i}" for i in range(self.num_layers + 1)]
        return ["logits", *hidden, *self.cache_names]

    @property
    def torch_dtype(self) -> torch.dtype:
        return getattr(torch, self.dtype)

    def cache_shape(self, batch_size: int, cache_length: int) -> tuple[int, int, int, int]:
        return (batch_size, self.num_key_value_heads, cache_length, self.head_dim)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> GraphSpec:
        return cls(**{**data, "layer_types": tuple(data["layer_types"])})

    @classmethod
    def from_config(cls, config, dtype: torch.dtype) -> GraphSpec:
        return cls(
            num_layers=config.num_hidden_layers,
            layer_types=tuple(config.layer_types),
            sliding_window=config.sliding_window,
            num_attention_heads=config.num_attention_heads,
            num_key_value_heads=config.num_key_value_heads,
            head_dim=config.head_dim,
            hidden_size=config.hidden_size,
            vocab_size=config.vocab_size,
            max_position_embeddings=config.max_position_embeddings,
            dtype=str(dtype).removeprefix("torch."),
        )


def graph_spec(graph_module: torch.fx.GraphModule) -> GraphSpec:
    """The spec a captured graph module carries in its `meta`."""
    return graph_module.meta[SPEC_META_KEY]


def pad_aware_position_ids(attention_mask: torch.Tensor) -> torch.Tensor:
    """Positions as transformers' `generate` computes them: real tokens before this one, 0 on padding.

    (Padding rows see no key, so the value on padding never reaches a real token's output.)"""
    positions = attention_mask.long().cumsum(-1) - 1
    return positions.masked_fill(attention_mask == 0, 0)
