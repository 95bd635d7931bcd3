"""What the policy's forward keeps for the backward pass, and where: the trainer's memory options.

- Gradient checkpointing (`gradient_checkpointing`): on a graph with layer modules (the `layer_modules`
  pass), each decoder layer recomputes its activations in the backward pass, so between forward and
  backward a layer keeps only its inputs; a graph without them is checkpointed whole, as one region.
- Activation offload (`activation_offloading`): what autograd saves outside the checkpointed regions (with
  layer checkpointing: the layers' inputs) is copied to CPU memory, pinned on CUDA, and copied back when
  the backward pass needs it. Parameters (and views of them) stay where they are.
- Embedding offload (`embedding_offload`): the embedding table moves to CPU memory (pinned on CUDA); each
  forward gathers the batch's rows there and sends only those to the device. It needs the graph to call
  the embedding as a module (the `embedding_module` pass).
None of them changes a loss or a gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext

import torch
from peft import PeftModel
from torch.utils.checkpoint import checkpoint

from rewrite.model import RewrittenGptOss
from runtime.grpo.errors import GRPOModelError

EMBEDDING_PATH = "model.embed_tokens"


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
    graph_module = _base(model.graph_module)
    parent_path, _, name = EMBEDDING_PATH.rpartition(".")
    embedding = getattr(graph_module.get_submodule(parent_path), name, None)
    if not isinstance(embedding, torch.nn.Embedding):
        raise GRPOModelError(
            f"embedding_offload needs the graph to call its embedding as a module at {EMBEDDING_PATH}; rebuild the "
            "checkpoint with the default passes (they include embedding_module), or pass --embedding-offload false."
        )
    offloaded = OffloadedEmbedding(embedding)
    graph_module.get_submodule(parent_path).add_module(name, offloaded)
    return offloaded


def decoder_layers(graph_module: torch.nn.Module) -> list[torch.nn.Module]:
    """The called layer modules at `model.layers.<i>`; empty for a graph built without the layer_modules pass,
    whose `model.layers.<i>` are mere containers of parameters."""
    graph_module = _base(graph_module)
    try:
        layers = graph_module.get_submodule("model.layers")
    except AttributeError:
        return []
    return [layer for layer in layers.children() if type(layer).forward is not torch.nn.Module.forward]


def forward_for_backward(
    function: Callable[..., torch.Tensor],
    graph_module: torch.nn.Module,
    *args,
    gradient_checkpointing: bool,
    activation_offload: ActivationOffload | None = None,
) -> torch.Tensor:
    """`function(*args)`, a forward of `graph_module` whose backward pass will run, saving memory as asked."""
    with activation_offload if activation_offload is not None else nullcontext():
        if not gradient_checkpointing:
            return function(*args)
        layers = decoder_layers(graph_module)
        if not layers:
            return checkpoint(function, *args, use_reentrant=False)
        with layers_checkpointed(layers):
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


def _base(graph_module: torch.nn.Module) -> torch.nn.Module:
    return graph_module.get_base_model() if isinstance(graph_module, PeftModel) else graph_module
