"""How fast this machine's GPUs all-gather one FSDP unit: the interconnect's share of a `--fsdp` layer call.

Each process holds 1/N of a bf16 tensor of `--gib` GiB (default 6: one gpt-oss-120b decoder layer) and
`all_gather_into_tensor`s it, 2 untimed and `--repeats` timed times. Rank 0 prints one JSON object: milliseconds per
all-gather and the bytes each GPU receives per second. Compare with `FSDP::all_gather` in a profile of the trainer.

    torchrun --standalone --nproc_per_node 4 tools/bench_all_gather.py
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch
import torch.distributed as dist


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=6.0, help="size of the gathered tensor")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl")
    world = dist.get_world_size()
    shard = torch.randn(int(args.gib * 2**30) // 2 // world, dtype=torch.bfloat16, device="cuda")
    gathered = torch.empty(shard.numel() * world, dtype=torch.bfloat16, device="cuda")
    for _ in range(2):
        dist.all_gather_into_tensor(gathered, shard)
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(args.repeats):
        dist.all_gather_into_tensor(gathered, shard)
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - started) / args.repeats
    if dist.get_rank() == 0:
        received = gathered.numel() * gathered.element_size() * (world - 1) / world
        print(json.dumps({"processes": world, "device": torch.cuda.get_device_name(), "gib": args.gib,
                          "ms_per_all_gather": round(seconds * 1e3, 2),
                          "gb_per_s_received_per_gpu": round(received / seconds / 1e9, 1)}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
