"""What the quantizing passes share: the exact reference they are verified against, and the bytes they save.

A quantized module (`NF4Linear`, `NF4Experts`, `MXFP4Experts`) has `dequantized()`, the full-precision module it
computes exactly. Inside `dequantized(graph_module)` every such module is swapped for that, so the pipeline can
hold the quantized stage to the dtype's tolerance against the stage before it run on the same dequantized weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def dequantized(graph_module: torch.fx.GraphModule) -> Iterator[torch.fx.GraphModule]:
    """`graph_module` with each quantized module swapped for the full-precision module it computes, restored on
    exit."""
    swapped = [(path, module) for path, module in graph_module.named_modules() if hasattr(module, "dequantized")]
    for path, module in swapped:
        graph_module.set_submodule(path, module.dequantized())
    try:
        yield graph_module
    finally:
        for path, module in swapped:
            graph_module.set_submodule(path, module)


def module_bytes(module: torch.nn.Module) -> int:
    """Bytes of the tensors a module owns, its biases included."""
    return sum(tensor.nbytes for tensor in (*module.parameters(), *module.buffers()))
