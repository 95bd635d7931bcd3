"""Write a transformers weights directory one group of tensors at a time: the whole state dict never exists.

`ShardWriter(directory)` takes tensors in the order a streaming build makes them; each `flush()` (a layer's
tensors, say) writes them as one safetensors shard and lets them go. `finish()` names the shards as
`save_pretrained` does (`model-00001-of-00003.safetensors`) and writes `model.safetensors.index.json`, the layout
transformers, vLLM and `rewrite.tensor_files` read.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from .tensor_files import WEIGHTS_INDEX_FILE


class ShardWriter:
    """Tensors by name into numbered shards of `directory`; names must be unique."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.pending: dict[str, torch.Tensor] = {}
        self.shard_of: dict[str, int] = {}
        self.shards = 0
        self.total_bytes = 0

    def add(self, name: str, tensor: torch.Tensor) -> None:
        if name in self.shard_of or name in self.pending:
            raise ValueError(f"{name} is written twice")
        self.pending[name] = tensor.detach().contiguous().cpu()

    def flush(self) -> None:
        """Write the tensors added since the last flush as one shard."""
        if not self.pending:
            return
        self.shards += 1
        save_file(self.pending, self._numbered(self.shards), metadata={"format": "pt"})
        self.total_bytes += sum(tensor.nbytes for tensor in self.pending.values())
        self.shard_of.update(dict.fromkeys(self.pending, self.shards))
        self.pending = {}

    def finish(self) -> list[str]:
        """Name the shards `model-0000i-of-0000n.safetensors`, write the index; returns the tensor names."""
        self.flush()
        names = {shard: f"model-{shard:05d}-of-{self.shards:05d}.safetensors" for shard in range(1, self.shards + 1)}
        for shard, name in names.items():
            self._numbered(shard).rename(self.directory / name)
        index = {"metadata": {"total_size": self.total_bytes},
                 "weight_map": {tensor: names[shard] for tensor, shard in sorted(self.shard_of.items())}}
        (self.directory / WEIGHTS_INDEX_FILE).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        return sorted(self.shard_of)

    def _numbered(self, shard: int) -> Path:
        return self.directory / f"shard-{shard:05d}.safetensors"
