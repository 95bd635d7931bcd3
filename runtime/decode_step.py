"""One decode step through the graph: a token per row into the next cache slot, logits of the next position out.

`decode_one_token` is the function the engine compiles (`torch.compile(decode_one_token, dynamic=False)`): every
argument is a tensor of a shape fixed for the request, and the cache write position is a 0-d tensor, so one graph
serves every step. `CachedDecodeStep` holds what changes between steps (the mask's open slots, the rows' next
positions) and is the `DecodeStep` that `runtime.decode_loop.decode_n_tokens` calls.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from rewrite.spec import GraphSpec


def decode_one_token(graph_module: torch.nn.Module, spec: GraphSpec, token: torch.Tensor,
                     attention_mask: torch.Tensor, position: torch.Tensor, write_position: torch.Tensor,
                     caches: list[torch.Tensor]) -> torch.Tensor:
    """One token per row through the graph; writes the new keys and values back into `caches` (in place, so their
    addresses stay put for CUDA graphs); returns the logits [B, vocab]."""
    outputs = graph_module(token, attention_mask, position, write_position, *caches)
    for cache, updated in zip(caches, outputs[spec.num_layers + 2 :], strict=True):
        cache.copy_(updated)
    return outputs[0][:, -1]


class CachedDecodeStep:
    """Decode step i of a request: feeds each row's token of step i at the row's next position into cache slot
    `prompt_length + i`, which it first opens in the mask; returns the next logits."""

    def __init__(self, decode: Callable[..., torch.Tensor], graph_module: torch.nn.Module, spec: GraphSpec,
                 prompt_mask: torch.Tensor, prompt_positions: torch.Tensor, caches: list[torch.Tensor],
                 max_new_tokens: int):
        """`decode`: `decode_one_token` or its compiled form; `prompt_mask`, `prompt_positions` [B, P]: the prefilled
        prompts'; `caches` ([B, kv heads, cache length, head dim]): holding the prompts in their first P slots, with
        room for `max_new_tokens` more."""
        batch, prompt_length = prompt_mask.shape
        device = prompt_mask.device
        self.decode, self.graph_module, self.spec, self.caches = decode, graph_module, spec, caches
        self.mask = torch.zeros(batch, caches[0].shape[2], dtype=torch.long, device=device)
        self.mask[:, :prompt_length] = prompt_mask
        self.position = prompt_positions[:, -1:] + 1
        self.prompt_length = prompt_length
        self.write_positions = torch.arange(prompt_length, prompt_length + max_new_tokens, device=device)

    def __call__(self, token: torch.Tensor, index: int) -> torch.Tensor:
        self.mask[:, self.prompt_length + index] = 1
        logits = self.decode(self.graph_module, self.spec, token[:, None], self.mask, self.position,
                             self.write_positions[index], self.caches)
        self.position = self.position + 1
        return logits
