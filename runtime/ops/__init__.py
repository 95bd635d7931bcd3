"""Ops that the rewrite passes insert into the generated module."""

from runtime.ops.errors import SinkAttentionInputError
from runtime.ops.flex_sink_attention import (
    Implementation,
    flex_sink_attention,
    flex_sink_attention_dense_mask,
)
from runtime.ops.sink_block_mask import build_sink_block_mask
from runtime.ops.sink_visibility import MaskMod, is_visible, make_sink_mask_mod

__all__ = [
    "Implementation",
    "MaskMod",
    "SinkAttentionInputError",
    "build_sink_block_mask",
    "flex_sink_attention",
    "flex_sink_attention_dense_mask",
    "is_visible",
    "make_sink_mask_mod",
]
