"""Data parallelism for the GRPO trainer: which process does which share, and the collectives between them.

`torchrun --nproc_per_node N -m rewrite train ...` starts N processes; `Distributed.from_environment` joins them
into one process group (gloo on CPU, nccl on CUDA with the device LOCAL_RANK). One process without torchrun's
environment is a world of one, and every method below is then the identity, so the trainer has one code path.

How a step is shared, so that N processes give what one process gives with N times the gradient accumulation:
- the step's prompts are cut into N contiguous shares of whole groups; each process samples and scores its own;
- the generation batch (token ids, masks, rewards) is then gathered, so every process holds the same global batch,
  shuffled by (seed, step) and cut into N * gradient_accumulation_steps micro-batches, exactly as one process cuts
  it; process r trains on micro-batches [r * gradient_accumulation_steps, (r + 1) * gradient_accumulation_steps);
- each micro-batch's loss is its share of the global objective, so the LoRA gradients are summed across processes.
A process that raises ends itself; torchrun then stops the others (their collectives never return otherwise).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

Item = TypeVar("Item")

# torchrun sets these; WORLD_SIZE alone says whether this process is one of several.
_WORLD_SIZE, _LOCAL_RANK = "WORLD_SIZE", "LOCAL_RANK"
# A collective that waits longer than this raises instead of hanging (a generation phase is far shorter).
COLLECTIVE_TIMEOUT = datetime.timedelta(minutes=30)


@dataclass(frozen=True)
class Distributed:
    """This process's place in the run: `rank` of `world_size` processes, computing on `device`."""

    rank: int
    world_size: int
    device: torch.device

    @classmethod
    def from_environment(cls, use_cpu: bool = False) -> Distributed:
        """Join the process group torchrun describes in the environment (once; later calls reuse it).

        Without torchrun's environment the result is a world of one on CUDA (unless `use_cpu`) or the CPU.
        On CUDA each process takes GPU LOCAL_RANK and nccl; on the CPU, or with `use_cpu`, gloo.
        """
        on_cuda = torch.cuda.is_available() and not use_cpu
        world_size = int(os.environ.get(_WORLD_SIZE, "1"))
        if world_size == 1 and not dist.is_initialized():
            return cls(0, 1, torch.device("cuda" if on_cuda else "cpu"))
        device = torch.device("cpu")
        if on_cuda:
            device = torch.device("cuda", int(os.environ.get(_LOCAL_RANK, "0")))
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if on_cuda else "gloo", timeout=COLLECTIVE_TIMEOUT)
        return cls(dist.get_rank(), dist.get_world_size(), device)

    @property
    def is_main(self) -> bool:
        """Whether this process writes the run's outputs (logs, adapter, reward curve)."""
        return self.rank == 0

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier()

    def share(self, items: Sequence[Item]) -> tuple[int, list[Item]]:
        """(index of the first, the items) of this process's contiguous share of `items`.

        `len(items)` is a multiple of `world_size` for a step's prompts: GRPOConfig refuses a per-process batch
        (per_device_train_batch_size * gradient_accumulation_steps) that is not whole groups of num_generations.
        """
        count = len(items) // self.world_size
        first = self.rank * count
        return first, list(items[first : first + count])

    def own_micro_batches(self, items: Sequence[Item], per_process: int) -> list[Item]:
        """This process's `per_process` consecutive items of `world_size * per_process` (the global micro-batches)."""
        return list(items[self.rank * per_process : (self.rank + 1) * per_process])

    def gather_rows(self, tensor: torch.Tensor) -> torch.Tensor:
        """Every process's `tensor` (same shape everywhere) concatenated along dim 0, in rank order, on the
        tensor's device (the collective runs on this process's device: nccl takes only CUDA tensors)."""
        if self.world_size == 1:
            return tensor
        local = tensor.to(self.device).contiguous()
        parts = [torch.empty_like(local) for _ in range(self.world_size)]
        dist.all_gather(parts, local)
        return torch.cat(parts).to(tensor.device)

    def gather_objects(self, items: list[Any]) -> list[Any]:
        """Every process's list of picklable `items`, concatenated in rank order."""
        if self.world_size == 1:
            return items
        parts: list[Any] = [None] * self.world_size
        dist.all_gather_object(parts, items)
        return [item for part in parts for item in part]

    def max(self, value: int) -> int:
        """The largest `value` over the processes."""
        if self.world_size == 1:
            return value
        tensor = torch.tensor([value], device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return int(tensor.item())

    def sum_values(self, values: dict[str, float]) -> dict[str, float]:
        """Each value summed over the processes (every process passes the same keys)."""
        if self.world_size == 1:
            return values
        tensor = torch.tensor(list(values.values()), dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return dict(zip(values, tensor.tolist(), strict=True))

    def mean_values(self, values: dict[str, float]) -> dict[str, float]:
        """Each value averaged over the processes that have it (processes may pass different keys)."""
        every = self.gather_objects([values])
        keys = dict.fromkeys(key for part in every for key in part)
        return {key: sum(part[key] for part in every if key in part) / sum(key in part for part in every)
                for key in keys}

    def sum_gradients(self, parameters: Sequence[torch.nn.Parameter]) -> None:
        """Replace each parameter's gradient by its sum over the processes (one flat all-reduce)."""
        if self.world_size == 1:
            return
        for parameter in parameters:
            if parameter.grad is None:  # a parameter outside this step's graph still takes part in the sum
                parameter.grad = torch.zeros_like(parameter)
        flat = torch.cat([parameter.grad.reshape(-1) for parameter in parameters])
        dist.all_reduce(flat)
        for parameter, summed in zip(parameters, flat.split([p.numel() for p in parameters]), strict=True):
            parameter.grad.copy_(summed.view_as(parameter.grad))

    def broadcast_parameters(self, parameters: Sequence[torch.nn.Parameter]) -> None:
        """Give every process rank 0's values (so that replicas start equal, as DistributedDataParallel does)."""
        if self.world_size == 1:
            return
        with torch.no_grad():
            for parameter in parameters:
                dist.broadcast(parameter.data, src=0)

    def broadcast_object(self, value: Any) -> Any:
        """Rank 0's `value` on every process."""
        if self.world_size == 1:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def shutdown(self) -> None:
        """Leave the process group (when one was joined)."""
        if dist.is_initialized():
            dist.destroy_process_group()
