"""`flex_sink_attention`: gpt-oss attention with learned per-head sinks, masked by offsets, not a dense mask.

It replaces the first return value of transformers' `gpt_oss.eager_attention_forward`, with the
attention mask that function was given described by (query_offset, padding, window) instead.
"""

from typing import Literal

import torch
from torch import Tensor

from runtime.ops.errors import SinkAttentionInputError
from runtime.ops.sink_attention_decode import decode_sink_attention
from runtime.ops.sink_attention_flex import flex_sink_attention_flex_dense_mask, flex_sink_attention_flex_path
from runtime.ops.sink_attention_math import (
    MATH_CHUNK_ROWS,
    math_sink_attention,
    math_sink_attention_dense_mask,
)

Implementation = Literal["auto", "flex", "math", "decode"]


def _check_index(name: str, index: Tensor, batch: int) -> None:
    """`index` must be an integer tensor of shape [] or [batch]."""
    if index.is_floating_point() or index.is_complex() or index.dtype == torch.bool:
        raise SinkAttentionInputError(f"{name} must be an integer tensor, got dtype {index.dtype}.")
    if index.dim() > 1 or (index.dim() == 1 and index.shape[0] != batch):
        raise SinkAttentionInputError(
            f"{name} must have shape [] or [{batch}] (one entry per batch row), got {list(index.shape)}."
        )


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, sinks: Tensor, window: int | None) -> None:
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        raise SinkAttentionInputError(
            "query, key and value must be 4-D [batch, heads, length, head_dim]; "
            f"got {list(query.shape)}, {list(key.shape)}, {list(value.shape)}."
        )
    if key.shape != value.shape:
        raise SinkAttentionInputError(f"key {list(key.shape)} and value {list(value.shape)} must have one shape.")
    if query.shape[0] != key.shape[0] or query.shape[3] != key.shape[3]:
        raise SinkAttentionInputError(
            f"query {list(query.shape)} and key {list(key.shape)} must agree in batch and head_dim."
        )
    if query.shape[1] % key.shape[1] != 0:
        raise SinkAttentionInputError(
            f"query heads ({query.shape[1]}) must be a multiple of kv heads ({key.shape[1]}) for GQA."
        )
    if sinks.shape != (query.shape[1],):
        raise SinkAttentionInputError(
            f"sinks must have shape [{query.shape[1]}] (one per query head), got {list(sinks.shape)}."
        )
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise SinkAttentionInputError(f"window must be None (full attention) or a positive int, got {window!r}.")


def _check_options(implementation: str, chunk_rows: int) -> None:
    if implementation not in ("auto", "flex", "math", "decode"):
        raise SinkAttentionInputError(
            f"implementation must be 'auto', 'flex', 'math' or 'decode', got {implementation!r}."
        )
    if chunk_rows < 1:
        raise SinkAttentionInputError(f"chunk_rows must be a positive int, got {chunk_rows!r}.")


def flex_sink_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    sinks: Tensor,
    scale: float,
    query_offset: Tensor,
    padding: Tensor,
    window: int | None,
    *,
    implementation: Implementation = "auto",
    chunk_rows: int = MATH_CHUNK_ROWS,
) -> Tensor:
    """Attention with a learned sink logit per head; returns [B, Q, Hq, D] in query's dtype.

    query [B, Hq, Q, D]; key, value [B, Hkv, K, D] with Hq % Hkv == 0 (GQA, no repeated copies);
    sinks [Hq] (differentiable); scale multiplies q.k. Query row i of batch row b sits at kv index
    `query_offset[b] + i` (`query_offset`: integer [] or [B]); kv slot j is visible to it iff
    `padding[b] <= j <= query_offset[b] + i` and, if `window` is an int, `query_offset[b] + i - j < window`
    (`padding`: integer [B], left-padding slots per row). A row that sees no key outputs exactly 0.
    Softmax statistics are computed in float32 (float64 inputs stay float64).

    `implementation`: "auto" takes flex on CUDA (plain ops for a single query row: decode) and the
    chunked math path elsewhere; "decode" forces the single-row path; "math" forces the
    math path (any device, full backward); "flex" forces flex (compiled on CUDA; elsewhere flex's
    eager forward-only reference, for tests). `chunk_rows` is the math path's query chunk size.
    Offsets and padding are copied before use: changing them later affects no pending backward pass.
    """
    _check_shapes(query, key, value, sinks, window)
    _check_options(implementation, chunk_rows)
    _check_index("query_offset", query_offset, query.shape[0])
    _check_index("padding", padding, query.shape[0])
    if implementation == "decode" or (implementation == "auto" and query.is_cuda and query.shape[2] == 1):
        if query.shape[2] != 1:
            raise SinkAttentionInputError(f"the decode path takes one query row, got {query.shape[2]}.")
        return decode_sink_attention(query, key, value, sinks, scale, query_offset, padding, window)
    if implementation == "flex" or (implementation == "auto" and query.is_cuda):
        return flex_sink_attention_flex_path(query, key, value, sinks, scale, query_offset, padding, window)
    return math_sink_attention(query, key, value, sinks, scale, query_offset, padding, window, chunk_rows)


def flex_sink_attention_dense_mask(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    sinks: Tensor,
    scale: float,
    mask: Tensor,
    *,
    implementation: Implementation = "auto",
    chunk_rows: int = MATH_CHUNK_ROWS,
) -> Tensor:
    """`flex_sink_attention` with visibility given as a dense additive mask [B, 1, Q, K], 0 where visible.

    What the `flex_sink` pass inserts, taking the mask the captured graph built; the `kv_offset` pass
    then swaps this call for `flex_sink_attention` with offsets, and the dense mask disappears.
    """
    _check_shapes(query, key, value, sinks, None)
    _check_options(implementation, chunk_rows)
    expected = (query.shape[0], 1, query.shape[2], key.shape[2])
    if tuple(mask.shape) != expected:
        raise SinkAttentionInputError(f"mask must have shape {list(expected)}, got {list(mask.shape)}.")
    if implementation == "flex" or (implementation == "auto" and query.is_cuda):
        return flex_sink_attention_flex_dense_mask(query, key, value, sinks, scale, mask)
    return math_sink_attention_dense_mask(query, key, value, sinks, scale, mask, chunk_rows)
