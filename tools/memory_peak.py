"""What holds the GPU memory at the peak of a piece of work: torch's allocator history, replayed.

`PeakAttribution` records the CUDA caching allocator's history (python stacks) over a `with` block. `summary()`
replays the alloc / free events to the moment allocated memory was highest and sums the blocks alive then by
where they were allocated: the innermost frame in this repository (and the torch function it called), so that
a phase's extra memory is named by line. Memory allocated before the block (weights, caches kept from earlier)
is `baseline_gib`, split by what `baseline_parts` names (e.g. a model's parameters), the rest "other".

    with PeakAttribution() as peak:
        step()
    print(peak.summary({"parameters": list(model.parameters())}))
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import torch

REPOSITORY = Path(__file__).resolve().parents[1]
MAX_EVENTS = 4_000_000


class PeakAttribution:
    def __enter__(self) -> PeakAttribution:
        torch.cuda.synchronize()
        self.baseline = torch.cuda.memory_allocated()
        torch.cuda.memory._record_memory_history(max_entries=MAX_EVENTS, stacks="python")
        return self

    def __exit__(self, *exc) -> None:
        torch.cuda.synchronize()
        self.snapshot = torch.cuda.memory._snapshot()
        torch.cuda.memory._record_memory_history(enabled=None)

    def summary(self, baseline_parts: dict[str, list[torch.Tensor]], rows: int = 20) -> dict:
        """{"baseline_gib", "baseline_parts_gib", "peak_gib", "events", "events_lost", "at_peak": [{"gib",
        "where"}]}: the peak over the block, and the blocks alive at it that the block allocated, largest first."""
        device = torch.cuda.current_device()
        events = [event for event in self.snapshot["device_traces"][device]
                  if event["action"] in ("alloc", "free_requested")]
        highest, at_index = peak_of(events)
        live: dict[int, dict] = {}
        for event in events[: at_index + 1]:
            if event["action"] == "alloc":
                live[event["addr"]] = event
            else:
                live.pop(event["addr"], None)
        groups: dict[str, int] = defaultdict(int)
        for block in live.values():
            groups[allocation_site(block.get("frames", []))] += block["size"]
        parts = {name: sum_bytes(tensors) for name, tensors in baseline_parts.items()}
        parts["other"] = self.baseline - sum(parts.values())
        return {
            "baseline_gib": gib(self.baseline), "baseline_parts_gib": {name: gib(b) for name, b in parts.items()},
            "peak_gib": gib(self.baseline + highest), "events": len(events),
            "events_lost": len(self.snapshot["device_traces"][device]) >= MAX_EVENTS,
            "at_peak": [{"gib": gib(size), "where": where}
                        for where, size in sorted(groups.items(), key=lambda item: -item[1])[:rows]],
        }


def peak_of(events: list[dict]) -> tuple[int, int]:
    """(the most bytes the events' blocks held at once, the index of the event that reached it); frees of blocks
    allocated before the recording are not counted against it."""
    sizes: dict[int, int] = {}
    allocated = highest = at_index = 0
    for index, event in enumerate(events):
        if event["action"] == "alloc":
            sizes[event["addr"]] = event["size"]
            allocated += event["size"]
            if allocated > highest:
                highest, at_index = allocated, index
        else:
            allocated -= sizes.pop(event["addr"], 0)
    return highest, at_index


def allocation_site(frames: list[dict]) -> str:
    """'file:line function <- torch function' for the innermost frame in this repository (frames are innermost
    first), or the innermost frame at all when none is ours."""
    for index, frame in enumerate(frames):
        if frame["filename"].startswith(str(REPOSITORY)):
            called = frames[index - 1]["name"] if index else ""
            name = f"{Path(frame['filename']).relative_to(REPOSITORY)}:{frame['line']} {frame['name']}"
            return f"{name} <- {called}" if called else name
    return f"{frames[0]['filename']}:{frames[0]['line']} {frames[0]['name']}" if frames else "(no stack)"


def sum_bytes(tensors: list[torch.Tensor]) -> int:
    unique = {tensor.data_ptr(): tensor for tensor in tensors if tensor.is_cuda}
    return sum(tensor.untyped_storage().nbytes() for tensor in unique.values())


def gib(size: int) -> float:
    return round(size / 2**30, 3)
