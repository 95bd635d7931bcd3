"""Module roles: which submodule of an emitted graph is the embedding, each decoder layer, and the lm_head.

The runtime needs these modules by role: generation applies the head to the last position only, the trainer
offloads the embedding and checkpoints activations layer by layer, FSDP shards the embedding and each layer as
units. The roles are read off the graph once, when a checkpoint is emitted, from its data flow: the embedding is
the module called on `input_ids`, the layers are the modules called at `model.layers.<i>`, the head is the module
whose output is the logits. The manifest records them ("roles"); the runtime reads them from there and never
inspects a module to guess. The structure passes (embedding_module, linear_modules, layer_modules) make these
calls, so every build has all three roles.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import PassError

ROLE_NAMES = ("embedding", "layers", "lm_head")


@dataclass(frozen=True)
class ModuleRoles:
    """Submodule paths by role, in transformers' names; `layers` in order."""

    embedding: str
    layers: tuple[str, ...]
    lm_head: str

    def to_json(self) -> dict:
        return {"embedding": self.embedding, "layers": list(self.layers), "lm_head": self.lm_head}

    @classmethod
    def from_json(cls, data: dict) -> ModuleRoles:
        return cls(data["embedding"], tuple(data["layers"]), data["lm_head"])

    @classmethod
    def of_graph(cls, graph_module: torch.fx.GraphModule, num_layers: int) -> ModuleRoles:
        """The roles of a rewritten graph's top-level calls; `PassError` when a structure pass has not run."""
        calls = [node for node in graph_module.graph.nodes if node.op == "call_module"]
        input_ids = next(node for node in graph_module.graph.nodes if node.op == "placeholder")
        embedding = [node.target for node in calls if node.args[:1] == (input_ids,)]
        layers = tuple(f"model.layers.{index}" for index in range(num_layers))
        called = {node.target for node in calls}
        logits = graph_module.graph.output_node().args[0][0]
        missing = [
            role for role, found in (
                ("embedding (embedding_module)", len(embedding) == 1),
                ("layers (layer_modules)", called.issuperset(layers)),
                ("lm_head (linear_modules)", logits.op == "call_module"),
            ) if not found
        ]
        if missing:
            raise PassError(
                f"the graph does not call modules for {', '.join(missing)}: the structure passes must run "
                "(the pipeline always runs them, after the requested passes)"
            )
        return cls(embedding[0], layers, logits.target)
