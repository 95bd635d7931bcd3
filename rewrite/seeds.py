"""Seeds as pure functions of where they are used: the same value on every process, machine and Python version."""

from __future__ import annotations

import hashlib

import torch


def derived_seed(*parts: int | str) -> int:
    """A 63-bit seed that depends only on `parts` (stable across processes, machines and Python versions)."""
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def seeded_generator(device: torch.device | str, *parts: int | str) -> torch.Generator:
    """A fresh `torch.Generator` on `device` seeded with `derived_seed(*parts)`."""
    return torch.Generator(device=device).manual_seed(derived_seed(*parts))
