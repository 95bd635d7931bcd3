"""`sink_attention`: gpt-oss attention with learned per-head sinks, the one attention op of the runtime.

It computes the first return value of transformers' `gpt_oss.eager_attention_forward`, and takes its
arguments in the order of the capture marker `gpt_oss_rewrite::sink_attention` (`rewrite.marks`), which
the `flex_sink` pass swaps for it: (query, key, value, sinks, mask, scale). The mask is a `SinkMask`
(offsets; see `runtime.ops.sink_mask`), what the `kv_offset` pass leaves and the runtime runs, or the
dense additive mask [B, 1, Q, K] the captured graph built, which `flex_sink` hands over until `kv_offset`
replaces it. This module checks the inputs and picks a backend: `sink_attention_flex` (flex attention,
CUDA), `sink_attention_math` (chunked plain math with its own backward, any device) or
`sink_attention_decode` (plain ops for one query row).
"""

from typing import Literal

import torch
from torch import Tensor

from rewrite.errors import SinkAttentionInputError
from runtime.ops.sink_attention_decode import sink_attention_decode
from runtime.ops.sink_attention_flex import sink_attention_flex
from runtime.ops.sink_attention_math import MATH_CHUNK_ROWS, sink_attention_math
from runtime.ops.sink_mask import AttentionMask, SinkMask

Implementation = Literal["auto", "flex", "math", "decode"]


def _check_index(name: str, index: Tensor, batch: int) -> None:
    """`index` must be an integer tensor of shape [] or [batch]."""
    if not isinstance(index, Tensor):
        raise SinkAttentionInputError(f"{name} must be an integer tensor, got {type(index).__name__}.")
    if index.is_floating_point() or index.is_complex() or index.dtype == torch.bool:
        raise SinkAttentionInputError(f"{name} must be an integer tensor, got dtype {index.dtype}.")
    if index.dim() > 1 or (index.dim() == 1 and index.shape[0] != batch):
        raise SinkAttentionInputError(
            f"{name} must have shape [] or [{batch}] (one entry per batch row), got {list(index.shape)}."
        )


def _check_mask(mask: AttentionMask, query: Tensor, key: Tensor) -> None:
    if isinstance(mask, SinkMask):
        _check_index("query_offset", mask.query_offset, query.shape[0])
        _check_index("padding", mask.padding, query.shape[0])
        window = mask.window
        if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
            raise SinkAttentionInputError(f"window must be None (full attention) or a positive int, got {window!r}.")
        return
    if not isinstance(mask, Tensor):
        raise SinkAttentionInputError(
            f"mask must be a SinkMask or a dense additive mask tensor, got {type(mask).__name__}."
        )
    expected = (query.shape[0], 1, query.shape[2], key.shape[2])
    if tuple(mask.shape) != expected:
        raise SinkAttentionInputError(f"a dense mask must have shape {list(expected)}, got {list(mask.shape)}.")


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, sinks: Tensor) -> None:
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


def _check_options(implementation: str, chunk_rows: int) -> None:
    if implementation not in ("auto", "flex", "math", "decode"):
        raise SinkAttentionInputError(
            f"implementation must be 'auto', 'flex', 'math' or 'decode', got {implementation!r}."
        )
    if chunk_rows < 1:
        raise SinkAttentionInputError(f"chunk_rows must be a positive int, got {chunk_rows!r}.")


def sink_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    sinks: Tensor,
    mask: AttentionMask,
    scale: float,
    *,
    implementation: Implementation = "auto",
    chunk_rows: int = MATH_CHUNK_ROWS,
) -> Tensor:
    """Attention with a learned sink logit per head; returns [B, Q, Hq, D] in query's dtype.

    query [B, Hq, Q, D]; key, value [B, Hkv, K, D] with Hq % Hkv == 0 (GQA, no repeated copies);
    sinks [Hq] (differentiable); `mask` a `SinkMask` (query row i of batch row b at kv index
    `query_offset[b] + i`; see `runtime.ops.sink_mask` for which slots it sees) or a dense additive
    mask [B, 1, Q, K], 0 where visible; `scale` multiplies q.k. A row that sees no key outputs exactly 0.
    Softmax statistics are computed in float32 (float64 inputs stay float64).

    `implementation`: "auto" takes flex on CUDA (the decode backend for a single query row) and the
    chunked math backend elsewhere; "decode" forces the single-row backend; "math" forces the math
    backend (any device, full backward); "flex" forces flex (compiled on CUDA; elsewhere flex's eager
    forward-only reference, for tests). `chunk_rows` is the math backend's query chunk size.
    A `SinkMask`'s tensors are copied before use: changing them later affects no pending backward pass.
    """
    _check_shapes(query, key, value, sinks)
    _check_options(implementation, chunk_rows)
    _check_mask(mask, query, key)
    if implementation == "decode" or (implementation == "auto" and query.is_cuda and query.shape[2] == 1):
        if query.shape[2] != 1:
            raise SinkAttentionInputError(f"the decode backend takes one query row, got {query.shape[2]}.")
        return sink_attention_decode(query, key, value, sinks, mask, scale)
    if implementation == "flex" or (implementation == "auto" and query.is_cuda):
        return sink_attention_flex(query, key, value, sinks, mask, scale)
    return sink_attention_math(query, key, value, sinks, mask, scale, chunk_rows)
