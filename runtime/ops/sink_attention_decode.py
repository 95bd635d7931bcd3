"""The decode backend of sink attention: one query row per sequence, in plain ops for torch.compile.

With Q = 1 the scores are [B, Hq, K]: linear in the cache length, so there is nothing for flex's
tiling to save, and plain ops let inductor fuse mask, softmax and sink into the matmuls' neighbours
(torch 2.11 also miscompiles flex's decode template when its mask reads the offsets computed in the
same graph). The sink joins the softmax as one more logit whose probability is dropped:

    peak = max(max_j s_j, sink)    out = sum_j exp(s_j - peak) v_j / (sum_j exp(s_j - peak) + exp(sink - peak))

so a row that sees no key outputs 0 (its weights all go to the sink). Differentiable by autograd.
"""

import torch
from torch import Tensor

from runtime.ops.sink_mask import AttentionMask, row_visibility


def sink_attention_decode(
    query: Tensor, key: Tensor, value: Tensor, sinks: Tensor, mask: AttentionMask, scale: float
) -> Tensor:
    """query [B, Hq, 1, D], key/value [B, Hkv, K, D] -> [B, 1, Hq, D]; inputs already validated by `sink_attention`."""
    batch, q_heads, _, head_dim = query.shape
    kv_heads, kv_len = key.shape[1], key.shape[2]
    groups = q_heads // kv_heads
    visible = row_visibility(mask, batch, query.device)(0, 1, kv_len)[:, 0]  # [B, K]
    grouped = query.reshape(batch, kv_heads, groups, head_dim)
    scores = torch.matmul(grouped, key.transpose(-1, -2)).float() * scale  # [B, Hkv, G, K]
    scores = scores.masked_fill(~visible[:, None, None, :], float("-inf"))
    sink = sinks.float().view(1, kv_heads, groups, 1)
    peak = torch.maximum(scores.amax(dim=-1, keepdim=True), sink)
    weights = torch.exp(scores - peak)
    total = weights.sum(dim=-1, keepdim=True) + torch.exp(sink - peak)
    out = torch.matmul((weights / total).to(value.dtype), value)  # [B, Hkv, G, D]
    return out.reshape(batch, 1, q_heads, head_dim)
