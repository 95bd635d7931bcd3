"""The graph's `lm_head` module, and running the graph without it.

Graphs built with the linear_modules pass call the output projection as a module (`lm_head`, transformers' name,
under peft's wrapper when LoRA is attached). Swapping it for an identity makes the graph return the final normed
hidden states, so a caller can apply the head to only the positions it needs: the last one when prefilling, a chunk
of completion tokens at a time for log-probs. No [batch, tokens, vocab] logits tensor is then made.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from peft import PeftModel


def lm_head_owner(graph_module: torch.nn.Module) -> torch.nn.Module | None:
    """The module whose `lm_head` attribute is the output projection module, or None when the graph has none
    (builds without the linear_modules pass read the weight by attribute)."""
    owner = graph_module.get_base_model() if isinstance(graph_module, PeftModel) else graph_module
    lm_head = getattr(owner, "lm_head", None)
    # a container module (no forward of its own) only holds the weight the graph reads by attribute
    called = isinstance(lm_head, torch.nn.Module) and type(lm_head).forward is not torch.nn.Module.forward
    return owner if called else None


@contextmanager
def lm_head_bypassed(owner: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Within the block `owner.lm_head` is an identity, so the graph returns hidden states; yields the head."""
    lm_head = owner.lm_head
    owner.lm_head = torch.nn.Identity()
    try:
        yield lm_head
    finally:
        owner.lm_head = lm_head
