"""Sink attention in plain tensor math, chunked over query rows, with its own backward: the math backend.

For CPU (no flex backward there) and as the device-independent reference backend. The sink joins the
softmax as one more logit per head whose probability is dropped:

    weights = softmax([scores, sink])[:-1],   out = weights @ v

which equals softmax(scores) * sigmoid(lse - sink), the form the flex path uses. Memory stays linear in
sequence length: forward and backward walk query chunks of `chunk_rows`, building scores and the
visibility mask for one chunk at a time ([B, Hkv, G, chunk, K]); GQA groups the G query heads of a kv
head instead of repeating k and v. Backward keeps q, k, v, sinks, the output and the per-row
log-sum-exp over keys and sink (`lse_all`), and recomputes the weights chunk by chunk:

    weights = exp(scores - lse_all)            sink weight = exp(sink - lse_all) = sigmoid(sink - lse)
    delta   = sum_d dout * out                 (per row)
    dscores = weights * (dout @ v^T - delta)   dsink = -sum_rows sink_weight * delta
"""


import torch
from torch import Tensor

from runtime.ops.sink_mask import AttentionMask, row_visibility

MATH_CHUNK_ROWS = 128


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """Softmax statistics are kept in float32 at least (float64 stays float64, for gradcheck)."""
    return torch.promote_types(dtype, torch.float32)


class _ChunkScores:
    """Masked, scaled scores of one query chunk, shaped [B, Hkv, G, rows, K]."""

    def __init__(self, q: Tensor, k: Tensor, scale: float, visible: Tensor) -> None:
        batch, kv_heads, groups, rows, head_dim = q.shape
        self.flat_q = q.reshape(batch, kv_heads, groups * rows, head_dim)
        raw = torch.matmul(self.flat_q, k.transpose(-1, -2)) * scale
        self.scores = raw.view(batch, kv_heads, groups, rows, -1).masked_fill(~visible, float("-inf"))


class _ChunkedSinkAttention(torch.autograd.Function):
    """out [B, Q, Hq, D] of q [B, Hq, Q, D], k/v [B, Hkv, K, D], sinks [Hq]; gradients for all four."""

    @staticmethod
    def forward(ctx, query, key, value, sinks, scale, visibility, chunk_rows):
        batch, q_heads, q_len, head_dim = query.shape
        kv_heads, kv_len = key.shape[1], key.shape[2]
        groups = q_heads // kv_heads
        dtype = _compute_dtype(query.dtype)
        q = query.to(dtype).reshape(batch, kv_heads, groups, q_len, head_dim)
        k, v = key.to(dtype), value.to(dtype)
        sink = sinks.to(dtype).view(1, kv_heads, groups, 1, 1)

        out = query.new_empty(batch, q_len, q_heads, head_dim)
        lse_all = torch.empty(batch, kv_heads, groups, q_len, 1, dtype=dtype, device=query.device)
        for first in range(0, q_len, chunk_rows):
            end = min(first + chunk_rows, q_len)
            visible = visibility(first, end, kv_len)[:, None, None]
            chunk = _ChunkScores(q[:, :, :, first:end], k, scale, visible)
            peak = torch.maximum(chunk.scores.amax(dim=-1, keepdim=True), sink)
            exp_scores = torch.exp(chunk.scores - peak)
            total = exp_scores.sum(dim=-1, keepdim=True) + torch.exp(sink - peak)
            lse_all[:, :, :, first:end] = peak + torch.log(total)
            weights = (exp_scores / total).view(batch, kv_heads, groups * (end - first), kv_len)
            chunk_out = torch.matmul(weights, v).view(batch, q_heads, end - first, head_dim)
            out[:, first:end] = chunk_out.transpose(1, 2).to(query.dtype)

        ctx.save_for_backward(query, key, value, sinks, out, lse_all)
        ctx.scale, ctx.visibility, ctx.chunk_rows = scale, visibility, chunk_rows
        return out

    @staticmethod
    def backward(ctx, grad_out):
        query, key, value, sinks, out, lse_all = ctx.saved_tensors
        batch, q_heads, q_len, head_dim = query.shape
        kv_heads, kv_len = key.shape[1], key.shape[2]
        groups = q_heads // kv_heads
        dtype = lse_all.dtype
        q = query.to(dtype).reshape(batch, kv_heads, groups, q_len, head_dim)
        k, v = key.to(dtype), value.to(dtype)
        sink = sinks.to(dtype).view(1, kv_heads, groups, 1, 1)
        dout = grad_out.to(dtype).transpose(1, 2).reshape(batch, kv_heads, groups, q_len, head_dim)
        saved_out = out.to(dtype).transpose(1, 2).reshape(batch, kv_heads, groups, q_len, head_dim)
        delta = (dout * saved_out).sum(dim=-1, keepdim=True)  # [B, Hkv, G, Q, 1]

        grad_q = torch.empty_like(q)
        grad_k = torch.zeros_like(k)
        grad_v = torch.zeros_like(v)
        grad_sink = torch.zeros(kv_heads, groups, dtype=dtype, device=query.device)
        for first in range(0, q_len, ctx.chunk_rows):
            end = min(first + ctx.chunk_rows, q_len)
            rows = end - first
            visible = ctx.visibility(first, end, kv_len)[:, None, None]
            chunk = _ChunkScores(q[:, :, :, first:end], k, ctx.scale, visible)
            chunk_lse = lse_all[:, :, :, first:end]
            chunk_delta = delta[:, :, :, first:end]
            weights = torch.exp(chunk.scores - chunk_lse).view(batch, kv_heads, groups * rows, kv_len)
            chunk_dout = dout[:, :, :, first:end].reshape(batch, kv_heads, groups * rows, head_dim)

            grad_v += torch.matmul(weights.transpose(-1, -2), chunk_dout)
            grad_weights = torch.matmul(chunk_dout, v.transpose(-1, -2))
            flat_delta = chunk_delta.reshape(batch, kv_heads, groups * rows, 1)
            grad_scores = weights * (grad_weights - flat_delta) * ctx.scale
            grad_q[:, :, :, first:end] = torch.matmul(grad_scores, k).view(batch, kv_heads, groups, rows, head_dim)
            grad_k += torch.matmul(grad_scores.transpose(-1, -2), chunk.flat_q)
            sink_weight = torch.exp(sink - chunk_lse)
            grad_sink -= (sink_weight * chunk_delta).sum(dim=(0, 3, 4))

        return (
            grad_q.view(batch, q_heads, q_len, head_dim).to(query.dtype),
            grad_k.to(key.dtype),
            grad_v.to(value.dtype),
            grad_sink.view(q_heads).to(sinks.dtype),
            None,
            None,
            None,
        )


def sink_attention_math(query: Tensor, key: Tensor, value: Tensor, sinks: Tensor, mask: AttentionMask, scale: float,
                        chunk_rows: int = MATH_CHUNK_ROWS) -> Tensor:
    """Chunked math sink attention; inputs already validated by `sink_attention`.

    Returns [B, Q, Hq, D] in query's dtype; differentiable in query, key, value and sinks.
    """
    visibility = row_visibility(mask, query.shape[0], query.device)
    return _ChunkedSinkAttention.apply(query, key, value, sinks, scale, visibility, chunk_rows)
