"""Gumbel noise that is a pure function of (row key, step, token id): sampling that a batch cannot change.

`torch.multinomial` with a generator draws the rows of a batch from one stream, so a row's tokens depend on which
rows share its batch. Here every number comes from a counter-based hash of the row's 63-bit key, the decode step and
the token id (Mueller's 32-bit integer mix, in int64 tensor ops so that it runs on any device and compiles), turned
into a uniform in (0, 1) with 24 bits and then into Gumbel(0, 1) noise. `argmax(scores + noise)` is then an exact
sample of `softmax(scores)` (the Gumbel-max trick; -inf scores are never chosen), and a row samples the same tokens
alone or in any batch, on any number of processes.
"""

from __future__ import annotations

import torch

_MASK = 0xFFFFFFFF
# Mueller's multiplier: a [0, 2**32) value times it stays below 2**63, so int64 never overflows.
_MULTIPLIER = 0x45D9F3B
_SECOND_STATE = 0x9E3779B9  # the golden-ratio constant: a second state per row from the first
_UNIFORM_BITS = 24  # what float32 holds exactly


def gumbel_noise(keys: torch.Tensor, step: int | torch.Tensor, vocab_size: int) -> torch.Tensor:
    """[B, vocab_size] float32 Gumbel(0, 1) noise for rows with int64 `keys` [B] (>= 0) at decode `step` (an int,
    or a 0-d int64 tensor on the keys' device: what a compiled caller passes, so that steps share one graph)."""
    low, high = keys & _MASK, keys >> 32
    state = _mix(low ^ _mix(high ^ (step & _MASK)))
    second_state = _mix(state ^ _SECOND_STATE)
    token_ids = torch.arange(vocab_size, dtype=torch.int64, device=keys.device)
    bits = _mix(_mix(token_ids ^ state[:, None]) ^ second_state[:, None]) >> (32 - _UNIFORM_BITS)
    uniform = (bits.float() + 0.5) * 2.0**-_UNIFORM_BITS
    return -torch.log(-torch.log(uniform))


def _mix(value: torch.Tensor) -> torch.Tensor:
    """A bijective avalanche of 32-bit values held in int64."""
    value = ((value >> 16) ^ value) * _MULTIPLIER & _MASK
    value = ((value >> 16) ^ value) * _MULTIPLIER & _MASK
    return (value >> 16) ^ value
