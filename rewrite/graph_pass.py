"""The pass interface: a named graph rewrite (`GraphPass`) and the record of what it did (`PassReport`), which
the pipeline prints and the manifest keeps. Passes write their bookkeeping through `PassReport.record`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field

import torch


@dataclass(frozen=True)
class LeftAlone:
    """A site a pass matched and did not change, and why: the reason the report gives for it."""

    reason: str


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

    def record(self, site: str, outcome: LeftAlone | None = None) -> None:
        """Count one matched `site` (a node's or module's name): replaced, unless `outcome` says why it was not."""
        self.matched += 1
        if outcome is None:
            self.replaced += 1
        else:
            self.left_alone.append(f"{site}: {outcome.reason}")

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
