"""Shared fixtures of the attention-op tests: random sink-attention cases and transformers' own reference.

The reference is transformers' `gpt_oss.eager_attention_forward`, fed a dense additive mask built here,
independently of `runtime.ops`, the way transformers builds one: 0 where visible, finfo.min elsewhere.
"""

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
import torch
from torch import Tensor
from transformers.models.gpt_oss.modeling_gpt_oss import eager_attention_forward

from runtime.ops import SinkMask


@dataclass
class SinkAttentionCase:
    """Inputs of one `sink_attention` call; query, key, value and sinks are grad-requiring leaves."""

    query: Tensor
    key: Tensor
    value: Tensor
    sinks: Tensor
    scale: float
    query_offset: Tensor
    padding: Tensor
    window: int | None

    def mask(self) -> SinkMask:
        """The case's mask description (a new value on each call)."""
        return SinkMask(self.query_offset, self.padding, self.window)

    def args(self) -> tuple:
        """Positional arguments of `sink_attention`, in order."""
        return (self.query, self.key, self.value, self.sinks, self.mask(), self.scale)

    def leaves(self) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.query, self.key, self.value, self.sinks

    def visible(self) -> Tensor:
        """Dense bool [B, Q, K]: kv j visible to row i iff padding <= j <= offset + i (and inside the window)."""
        batch, _, q_len, _ = self.query.shape
        kv_len = self.key.shape[2]
        offset = self.query_offset.reshape(-1).expand(batch).cpu()
        position = offset[:, None, None] + torch.arange(q_len)[None, :, None]
        kv = torch.arange(kv_len)[None, None, :]
        visible = (kv >= self.padding.cpu()[:, None, None]) & (kv <= position)
        if self.window is not None:
            visible &= kv > position - self.window
        return visible.to(self.query.device)


def _make_case(
    batch: int = 2,
    q_heads: int = 4,
    kv_heads: int = 2,
    q_len: int = 8,
    kv_len: int = 8,
    head_dim: int = 8,
    query_offset: list[int] | int = 0,
    padding: list[int] | None = None,
    window: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: str = "cpu",
    seed: int = 0,
) -> SinkAttentionCase:
    generator = torch.Generator().manual_seed(seed)

    def leaf(*shape: int) -> Tensor:
        return torch.randn(*shape, generator=generator).to(device=device, dtype=dtype).requires_grad_()

    return SinkAttentionCase(
        query=leaf(batch, q_heads, q_len, head_dim),
        key=leaf(batch, kv_heads, kv_len, head_dim),
        value=leaf(batch, kv_heads, kv_len, head_dim),
        sinks=leaf(q_heads),
        scale=head_dim**-0.5,
        query_offset=torch.tensor(query_offset, dtype=torch.int64, device=device),
        padding=torch.tensor(padding if padding is not None else [0] * batch, dtype=torch.int64, device=device),
        window=window,
    )


def _hf_eager_attention(case: SinkAttentionCase) -> Tensor:
    """transformers' eager sink attention on the case, with its dense finfo.min mask; [B, Q, Hq, D]."""
    dtype = case.query.dtype
    mask = torch.zeros(case.visible().shape, dtype=dtype, device=case.query.device)
    mask = mask.masked_fill(~case.visible(), torch.finfo(dtype).min)[:, None]
    module = SimpleNamespace(
        sinks=case.sinks, num_key_value_groups=case.query.shape[1] // case.key.shape[1], training=False
    )
    out, _ = eager_attention_forward(module, case.query, case.key, case.value, mask, case.scale)
    return out


def _gradients(out: Tensor, case: SinkAttentionCase, seed: int = 1) -> tuple[Tensor, ...]:
    """d(sum(out * fixed random weights)) / d(query, key, value, sinks)."""
    weights = torch.randn(out.shape, generator=torch.Generator().manual_seed(seed)).to(out.device, out.dtype)
    return torch.autograd.grad((out * weights).sum(), case.leaves())


@pytest.fixture
def make_case() -> Callable[..., SinkAttentionCase]:
    """Factory of random cases: make_case(batch, q_heads, kv_heads, q_len, kv_len, ..., window=...)."""
    return _make_case


@pytest.fixture
def hf_eager() -> Callable[[SinkAttentionCase], Tensor]:
    return _hf_eager_attention


@pytest.fixture
def gradients() -> Callable[..., tuple[Tensor, ...]]:
    return _gradients
