"""The graph's lm_head module, and running the graph without it.

The manifest declares which module is the head (`RewrittenGptOss.roles.lm_head`, transformers' `lm_head`, under
peft's wrapper when LoRA is attached). Swapping it for an identity makes the graph return the final normed
hidden states, so a caller can apply the head to only the positions it needs: the last one when prefilling, a
chunk of completion tokens at a time for log-probs. No [batch, tokens, vocab] logits tensor is then made.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from peft import PeftModel

from rewrite.model import RewrittenGptOss


def base_module(graph_module: torch.nn.Module) -> torch.nn.Module:
    """The emitted module itself, under peft's wrapper if LoRA is attached (module paths are relative to it)."""
    return graph_module.get_base_model() if isinstance(graph_module, PeftModel) else graph_module


def lm_head(model: RewrittenGptOss) -> torch.nn.Module:
    """The output projection module (with its LoRA adapter, if any)."""
    return base_module(model.graph_module).get_submodule(model.roles.lm_head)


@contextmanager
def lm_head_bypassed(model: RewrittenGptOss) -> Iterator[torch.nn.Module]:
    """Within the block the head is an identity, so the graph returns hidden states; yields the head."""
    owner_path, _, name = model.roles.lm_head.rpartition(".")
    owner = base_module(model.graph_module).get_submodule(owner_path)
    head = getattr(owner, name)
    setattr(owner, name, torch.nn.Identity())
    try:
        yield head
    finally:
        setattr(owner, name, head)
