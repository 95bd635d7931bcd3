"""Marker ops that make capture leave attention and its masks as one graph node each.

Capture routes gpt-oss attention through transformers' public `AttentionInterface` to
`gpt_oss_rewrite::sink_attention`, whose body *is* transformers' `eager_attention_forward`, and builds
the two dense masks with `gpt_oss_rewrite::padded_causal_mask`, which reproduces transformers' eager
mask (0 where visible, the dtype's minimum elsewhere). The experts go through transformers' public
`ExpertsInterface` to `gpt_oss_rewrite::experts`, whose body is `GptOssExperts`' own eager forward. The numbers
are therefore HF eager's, while passes can find attention, masks and experts by op instead of by walking
decomposed matmul/softmax/sort chains.
"""

from __future__ import annotations

from types import MethodType, SimpleNamespace

import torch
from transformers import AttentionInterface
from transformers.integrations.moe import ALL_EXPERTS_FUNCTIONS
from transformers.models.gpt_oss import modeling_gpt_oss

ATTENTION_IMPLEMENTATION = "gpt_oss_rewrite_marked"
EXPERTS_IMPLEMENTATION = "gpt_oss_rewrite_marked"


@torch.library.custom_op("gpt_oss_rewrite::padded_causal_mask", mutates_args=())
def padded_causal_mask(
    attention_mask: torch.Tensor, query_positions: torch.Tensor, window: int | None, dtype: torch.dtype
) -> torch.Tensor:
    """Additive mask [B, 1, Q, K]: kv slot j is visible to query position p of row b iff
    `attention_mask[b, j]` is set, `j <= p`, and (for a sliding layer) `p - j < window`."""
    kv_index = torch.arange(attention_mask.shape[-1], device=attention_mask.device)
    visible = kv_index[None, :] <= query_positions[:, None]
    if window is not None:
        visible = visible & (query_positions[:, None] - kv_index[None, :] < window)
    visible = visible[None, None] & attention_mask.bool()[:, None, None, :]
    zero = torch.zeros((), dtype=dtype, device=attention_mask.device)
    return torch.where(visible, zero, torch.finfo(dtype).min)


@padded_causal_mask.register_fake
def _(attention_mask, query_positions, window, dtype):
    batch, kv_length = attention_mask.shape
    return attention_mask.new_empty((batch, 1, query_positions.shape[0], kv_length), dtype=dtype)


def _eager(query, key, value, sinks, mask, scale):
    module = SimpleNamespace(
        sinks=sinks, num_key_value_groups=query.shape[1] // key.shape[1], training=False
    )
    output, _ = modeling_gpt_oss.eager_attention_forward(module, query, key, value, mask, scaling=scale)
    return output


@torch.library.custom_op("gpt_oss_rewrite::sink_attention", mutates_args=())
def sink_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    sinks: torch.Tensor,
    mask: torch.Tensor,
    scale: float,
) -> torch.Tensor:
    """transformers' eager gpt-oss attention: q [B,Hq,Q,D], k/v [B,Hkv,K,D] -> [B,Q,Hq,D].

    Its arguments are those of `runtime.ops.sink_attention`, in the same order, the mask being the dense one."""
    return _eager(query, key, value, sinks, mask, scale).contiguous()


@sink_attention.register_fake
def _(query, key, value, sinks, mask, scale):
    batch, heads, q_length, head_dim = query.shape
    return query.new_empty((batch, q_length, heads, head_dim))


def _save_inputs(ctx, inputs, output):
    query, key, value, sinks, mask, scale = inputs
    ctx.save_for_backward(query, key, value, sinks, mask)
    ctx.scale = scale


def _backward(ctx, grad_output):
    query, key, value, sinks, mask = ctx.saved_tensors
    leaves = [t.detach().requires_grad_(True) for t in (query, key, value, sinks)]
    with torch.enable_grad():
        output = _eager(*leaves, mask, ctx.scale)
    grads = torch.autograd.grad(output, leaves, grad_output, allow_unused=True)
    return (*grads, None, None)


sink_attention.register_autograd(_backward, setup_context=_save_inputs)


def marked_attention_forward(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
    """The `AttentionInterface` entry capture installs: one `sink_attention` node per layer."""
    if dropout:
        raise NotImplementedError("attention dropout is not supported by the captured graph")
    output = torch.ops.gpt_oss_rewrite.sink_attention(query, key, value, module.sinks, attention_mask, scaling)
    return output, None


AttentionInterface.register(ATTENTION_IMPLEMENTATION, marked_attention_forward)


def _eager_experts(hidden_states, router_indices, routing_weights, gate_up_proj, gate_up_proj_bias, down_proj,
                   down_proj_bias, alpha, limit):
    experts = SimpleNamespace(
        num_experts=gate_up_proj.shape[0], gate_up_proj=gate_up_proj, gate_up_proj_bias=gate_up_proj_bias,
        down_proj=down_proj, down_proj_bias=down_proj_bias, alpha=alpha, limit=limit,
    )
    experts._apply_gate = MethodType(modeling_gpt_oss.GptOssExperts._apply_gate, experts)
    # the class's forward is wrapped by transformers' experts dispatch; __wrapped__ is the eager loop itself
    return modeling_gpt_oss.GptOssExperts.forward.__wrapped__(experts, hidden_states, router_indices, routing_weights)


@torch.library.custom_op("gpt_oss_rewrite::experts", mutates_args=())
def experts(
    hidden_states: torch.Tensor,
    router_indices: torch.Tensor,
    routing_weights: torch.Tensor,
    gate_up_proj: torch.Tensor,
    gate_up_proj_bias: torch.Tensor,
    down_proj: torch.Tensor,
    down_proj_bias: torch.Tensor,
    alpha: float,
    limit: float,
) -> torch.Tensor:
    """transformers' eager `GptOssExperts`: hidden [T, H], top-k indices and weights [T, k] -> [T, H]."""
    return _eager_experts(hidden_states, router_indices, routing_weights, gate_up_proj, gate_up_proj_bias,
                          down_proj, down_proj_bias, alpha, limit)


@experts.register_fake
def _(hidden_states, router_indices, routing_weights, gate_up_proj, gate_up_proj_bias, down_proj, down_proj_bias,
      alpha, limit):
    return torch.empty_like(hidden_states)


def _save_experts_inputs(ctx, inputs, output):
    ctx.save_for_backward(*inputs[:7])
    ctx.alpha, ctx.limit = inputs[7:]


def _experts_backward(ctx, grad_output):
    hidden_states, router_indices, routing_weights, *weights = ctx.saved_tensors
    leaves = [t.detach().requires_grad_(True) for t in (hidden_states, routing_weights, *weights)]
    with torch.enable_grad():
        output = _eager_experts(leaves[0], router_indices, *leaves[1:], ctx.alpha, ctx.limit)
    grads = torch.autograd.grad(output, leaves, grad_output, allow_unused=True)
    return (grads[0], None, *grads[1:], None, None)


experts.register_autograd(_experts_backward, setup_context=_save_experts_inputs)


def marked_experts_forward(module, hidden_states, router_indices, routing_weights):
    """The `ExpertsInterface` entry capture installs: one `experts` node per layer."""
    return torch.ops.gpt_oss_rewrite.experts(
        hidden_states, router_indices, routing_weights, module.gate_up_proj, module.gate_up_proj_bias,
        module.down_proj, module.down_proj_bias, float(module.alpha), float(module.limit),
    )


ALL_EXPERTS_FUNCTIONS.register(EXPERTS_IMPLEMENTATION, marked_experts_forward)
