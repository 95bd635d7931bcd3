"""Ops that the rewrite passes insert into the generated module."""

from rewrite.errors import SinkAttentionInputError
from runtime.ops.sink_attention import Implementation, sink_attention
from runtime.ops.sink_block_mask import build_sink_block_mask
from runtime.ops.sink_mask import AttentionMask, MaskMod, SinkMask, is_visible, make_sink_mask_mod

__all__ = [
    "AttentionMask",
    "Implementation",
    "MaskMod",
    "SinkAttentionInputError",
    "SinkMask",
    "build_sink_block_mask",
    "is_visible",
    "make_sink_mask_mod",
    "sink_attention",
]
