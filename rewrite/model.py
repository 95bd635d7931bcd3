"""`RewrittenGptOss`: the module `rewrite.load` returns, a thin, typed front door to a graph module.

`forward(input_ids, attention_mask=None)` is the whole-sequence call (logits for every position,
left padding honoured); `step(...)` is the cache-level call the generation engine and the checks use.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import InputError
from .module_roles import ModuleRoles
from .spec import RUNTIME_META_KEY, GraphSpec, pad_aware_position_ids


@dataclass
class StepOutput:
    logits: torch.Tensor
    hidden_states: list[torch.Tensor]
    caches: list[torch.Tensor]


class RewrittenGptOss(torch.nn.Module):
    def __init__(self, graph_module: torch.nn.Module, spec: GraphSpec, manifest: dict | None = None):
        super().__init__()
        self.graph_module = graph_module
        self.spec = spec
        self.manifest = manifest or {}

    @property
    def roles(self) -> ModuleRoles:
        """Which submodules are the embedding, the layers and the lm_head: the manifest's, once emitted."""
        if self.manifest:
            return ModuleRoles.from_json(self.manifest["roles"])
        return ModuleRoles.of_graph(self.graph_module, self.spec.num_layers)

    @property
    def runtime_options(self) -> dict:
        """What passes asked of the runtime (e.g. inductor options): from the manifest once emitted."""
        if self.manifest:
            return self.manifest.get("runtime", {})
        return getattr(self.graph_module, "meta", {}).get(RUNTIME_META_KEY, {})

    @property
    def device(self) -> torch.device:
        return next(self.graph_module.parameters()).device

    def empty_caches(self, batch_size: int, cache_length: int) -> list[torch.Tensor]:
        """Zeroed key caches for every layer, then value caches, sized for `cache_length` slots: views of one
        buffer, so that freeing them leaves one block, which the allocator hands back to the next set of that size
        (the generation engine's CUDA graphs then find their caches where they were recorded)."""
        shape = self.spec.cache_shape(batch_size, cache_length)
        names = self.spec.cache_names
        return list(torch.zeros((len(names), *shape), dtype=self.spec.torch_dtype, device=self.device).unbind(0))

    def step(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor,
        write_position: int | torch.Tensor,
        caches: list[torch.Tensor],
    ) -> StepOutput:
        """Run T new tokens per row into cache slots [write_position, write_position + T)."""
        if not torch.is_tensor(write_position):
            write_position = torch.tensor(write_position, device=input_ids.device)
        outputs = self.graph_module(input_ids, attention_mask, position_ids, write_position, *caches)
        layers = self.spec.num_layers
        return StepOutput(
            logits=outputs[0], hidden_states=list(outputs[1 : layers + 2]), caches=list(outputs[layers + 2 :])
        )

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Logits [B, T, vocab] for whole left-padded sequences (no cache kept between calls)."""
        attention_mask = self.check_inputs(input_ids, attention_mask)
        if position_ids is None:
            position_ids = pad_aware_position_ids(attention_mask)
        caches = self.empty_caches(input_ids.shape[0], input_ids.shape[1])
        return self.step(input_ids, attention_mask, position_ids, 0, caches).logits

    def check_inputs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Validate a whole-sequence batch; returns the attention mask (all ones when None)."""
        if input_ids.ndim != 2:
            raise InputError(f"input_ids must be [batch, length], got shape {tuple(input_ids.shape)}")
        batch_size, length = input_ids.shape
        if batch_size == 0 or length == 0:
            raise InputError(f"empty batch: input_ids has shape {tuple(input_ids.shape)}")
        if length > self.spec.max_position_embeddings:
            raise InputError(
                f"sequence of {length} tokens is longer than the model's context of "
                f"{self.spec.max_position_embeddings}; truncate the prompt"
            )
        if attention_mask is None:
            return torch.ones_like(input_ids)
        if attention_mask.shape != input_ids.shape:
            raise InputError(
                f"attention_mask shape {tuple(attention_mask.shape)} differs from input_ids "
                f"shape {tuple(input_ids.shape)}"
            )
        return attention_mask
