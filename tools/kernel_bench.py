"""What the experts-layer benchmarks (`bench_experts`, `bench_nf4_kernels`, `bench_mxfp4_kernels`) share: their
layer-shape options, random decode inputs, the scaled difference of two outputs, timing a function replayed from a
CUDA graph with CUDA events, and sweeping launch settings. The inputs and the timing need a CUDA device."""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Iterable

import torch

L2_FLUSH_BYTES = 256 * 2**20  # more than a GPU's L2 cache: zeroing it evicts what the last replay read


def layer_shape_parser(description: str) -> argparse.ArgumentParser:
    """A parser with the options of every experts-layer benchmark: batch sizes, experts, top-k and hidden size, with
    gpt-oss-20b's values as defaults; the caller adds its own."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--experts", type=int, default=32)
    parser.add_argument("--top-k", type=int, default=4)
    parser.add_argument("--hidden", type=int, default=2880)
    return parser


def random_routing(tokens: int, experts: int, top_k: int) -> torch.Tensor:
    """[tokens, top_k] expert indices: `top_k` distinct experts per token, drawn uniformly."""
    return torch.stack([torch.randperm(experts, device="cuda")[:top_k] for _ in range(tokens)])


def decode_inputs(batch: int, hidden: int, experts: int, top_k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random inputs of one decode step's experts layer: bf16 activations [batch, hidden], `random_routing`
    indices [batch, top_k] and bf16 routing weights [batch, top_k] that sum to 1 per token."""
    x = torch.randn(batch, hidden, device="cuda", dtype=torch.bfloat16)
    indices = random_routing(batch, experts, top_k)
    routing_weights = torch.softmax(torch.randn(batch, top_k, device="cuda"), -1).to(torch.bfloat16)
    return x, indices, routing_weights


def max_scaled_difference(ours: torch.Tensor, reference: torch.Tensor) -> float:
    """The largest absolute difference of `ours` and `reference` over the largest absolute value of `reference`,
    computed in their dtype."""
    return ((ours - reference).abs().max() / reference.abs().max()).item()


def cuda_graph(function: Callable[[], object]) -> torch.cuda.CUDAGraph:
    """`function()` captured in a CUDA graph, after three warm-up calls on a side stream (as capture needs)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            function()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        function()
    return graph


def mean_replay_microseconds(function: Callable[[], object], repeats: int) -> float:
    """Mean time of one replay of `function()`'s CUDA graph: `repeats` replays back to back between two CUDA events,
    after one untimed replay (as the engine's decode step runs them, L2 kept warm)."""
    graph = cuda_graph(function)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    graph.replay()
    start.record()
    for _ in range(repeats):
        graph.replay()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) * 1000 / repeats


def median_replay_microseconds(function: Callable[[], object], repeats: int) -> float:
    """Median time of one replay of `function()`'s CUDA graph: `repeats` replays after one untimed, each between two
    CUDA events of its own and after zeroing `L2_FLUSH_BYTES`, so that what it reads comes from memory, not L2."""
    graph = cuda_graph(function)
    flush = torch.empty(L2_FLUSH_BYTES, dtype=torch.uint8, device="cuda")
    events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(repeats)]
    graph.replay()
    for start, end in events:
        flush.zero_()
        start.record()
        graph.replay()
        end.record()
    torch.cuda.synchronize()
    return statistics.median(start.elapsed_time(end) for start, end in events) * 1000


def sweep_rows(settings: Iterable[dict], measure: Callable[[dict], dict]) -> list[dict]:
    """One row per launch setting: the setting with what `measure(setting)` returns, or with `"error"`, the name of
    the exception it raised (a setting that does not fit the chip's shared memory), so that the sweep goes on."""
    rows = []
    for setting in settings:
        try:
            rows.append({**setting, **measure(setting)})
        except Exception as error:
            rows.append({**setting, "error": type(error).__name__})
    return rows
