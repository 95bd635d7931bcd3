"""What the policy's forward keeps for the backward pass, and where: the trainer's memory options.

- Gradient checkpointing (`gradient_checkpointing`): each decoder layer (the modules the manifest declares as
  layers) recomputes its activations in the backward pass, so between forward and backward a layer keeps only
  its inputs.
- Activation offload (`activation_offloading`): what autograd saves outside the checkpointed regions (with
  layer checkpointing: the layers' inputs) is copied to CPU memory, pinned on CUDA, and copied back when
  the backward pass needs it. Parameters (and views of them) stay where they are.
- Embedding offload (`embedding_offload`): the embedding table moves to CPU memory (pinned on CUDA); each
  forward gathers the batch's rows there and sends only those to the device (the module the manifest declares
  as the embedding is swapped).
None of them changes a loss or a gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import torch
from torch.utils.checkpoint import checkpoint

from rewrite.model import RewrittenGptOss
from runtime.grpo.errors import GRPOModelError
from runtime.lm_head import base_module


class ActivationOffload(torch.autograd.graph.saved_tensors_hooks):
    """Within the block, tensors saved for backward live in CPU memory; counts what it moved (reusable)."""

    def __init__(self, parameters: list[torch.nn.Parameter]):
        self.parameter_storages = {parameter.untyped_storage().data_ptr() for parameter in parameters}
        self.tensors = 0
        self.bytes = 0
        super().__init__(self._pack, self._unpack)

    def _pack(self, tensor: torch.Tensor):
        if tensor.untyped_storage().data_ptr() in self.parameter_storages:
            return tensor
        self.tensors += 1
        self.bytes += tensor.numel() * tensor.element_size()
        if tensor.device.type == "cpu":
            return tensor.device, tensor
        packed = torch.empty(tensor.size(), dtype=tensor.dtype, layout=tensor.layout, pin_memory=True)
        packed.copy_(tensor, non_blocking=True)
        return tensor.device, packed

    @staticmethod
    def _unpack(packed):
        if isinstance(packed, torch.Tensor):
            return packed
        device, tensor = packed
        return tensor.to(device, non_blocking=True)


class OffloadedEmbedding(torch.nn.Module):
    """An `nn.Embedding` whose table stays in CPU memory: rows are gathered there and sent to the ids' device.

    The table is frozen and deliberately neither a parameter nor a buffer, so moving the model leaves it put."""

    def __init__(self, embedding: torch.nn.Embedding):
        super().__init__()
        table = embedding.weight.detach()
        self.table = table.to("cpu").pin_memory() if table.device.type == "cuda" else table
        self.padding_idx = embedding.padding_idx

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        rows = torch.nn.functional.embedding(input_ids.to(self.table.device), self.table, self.padding_idx)
        return rows.to(input_ids.device, non_blocking=True)


def offload_embedding(model: RewrittenGptOss) -> OffloadedEmbedding:
    """Swap the graph's embedding module for an `OffloadedEmbedding` (in place) and return it."""
    parent_path, _, name = model.roles.embedding.rpartition(".")
    parent = base_module(model.graph_module).get_submodule(parent_path)
    embedding = getattr(parent, name)
    if not isinstance(embedding, torch.nn.Embedding):
        raise GRPOModelError(
            f"embedding_offload needs a plain nn.Embedding at {model.roles.embedding}, found "
            f"{type(embedding).__name__}; pass --embedding-offload false"
        )
    offloaded = OffloadedEmbedding(embedding)
    parent.add_module(name, offloaded)
    return offloaded


def decoder_layers(model: RewrittenGptOss) -> list[torch.nn.Module]:
    """The decoder layer modules, in order."""
    base = base_module(model.graph_module)
    return [base.get_submodule(path) for path in model.roles.layers]


def forward_for_backward(
    function: Callable[..., torch.Tensor],
    model: RewrittenGptOss,
    *args,
    gradient_checkpointing: bool,
    activation_offload: ActivationOffload | None = None,
) -> torch.Tensor:
    """`function(*args)`, a forward of `model` whose backward pass will run, saving memory as asked."""
    with activation_offload if activation_offload is not None else nullcontext():
        if not gradient_checkpointing:
            return function(*args)
        with layers_checkpointed(decoder_layers(model)):
            return function(*args)


@contextmanager
def layers_checkpointed(layers: list[torch.nn.Module]) -> Iterator[None]:
    """Within the block, calling a layer runs it under non-reentrant activation checkpointing. Its forward is
    replaced on the instance, so parameter names and module hooks (FSDP2's) stay as they are."""
    for layer in layers:
        layer.forward = _checkpointed(layer.forward)
    try:
        yield
    finally:
        for layer in layers:
            del layer.forward


def _checkpointed(forward: Callable) -> Callable:
    def run(*args):
        return checkpoint(forward, *args, use_reentrant=False)

    return run
