"""What a pass did to a graph: the record the pipeline prints and the manifest keeps."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field

import torch


@dataclass
class PassReport:
    """Nodes a pass matched, how many it replaced, what it left alone and why, and free-form details."""

    pass_name: str
    matched: int = 0
    replaced: int = 0
    left_alone: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    seconds: float = 0.0
    max_error: float | None = None

    def summary(self) -> str:
        text = f"{self.pass_name}: matched {self.matched}, replaced {self.replaced}"
        if self.left_alone:
            text += f", left alone {len(self.left_alone)} ({'; '.join(self.left_alone)})"
        if self.max_error is not None:
            text += f", max error vs previous stage {self.max_error:.2e}"
        return text + f" [{self.seconds:.2f}s]"

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GraphPass:
    """A named rewrite: `apply` edits the GraphModule in place and returns its report.

    `apply` must leave the graph linted and recompiled, with the module's outputs equal to what they
    were before within the dtype's tolerance. A pass that approximates on purpose (quantization) gives
    `exact_reference`: a context manager in which the graph computes what it approximates (its weights
    dequantized); the pipeline verifies the stage against the previous one run in that context instead.
    """

    name: str
    apply: Callable[[torch.fx.GraphModule], PassReport]
    description: str
    exact_reference: Callable[[torch.fx.GraphModule], AbstractContextManager] | None = None
