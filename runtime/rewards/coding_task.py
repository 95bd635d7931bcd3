"""What a coding task is: the function to write, what it may import, how it is checked and timed."""

from __future__ import annotations

import inspect
import random
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from runtime.rewards.sandbox_limits import SandboxLimits

Arguments = tuple[object, ...]
"""Positional arguments of one call, made of JSON-compatible plain data."""


@dataclass(frozen=True)
class CodingTask:
    """A function the policy must write, and everything needed to judge it honestly."""

    name: str
    """Name on the command line (``reward-check --task NAME``)."""
    entry_point: str
    """Name of the module-level function the submission must define."""
    arity: int
    """Number of positional arguments the entry point is called with."""
    allowed_modules: frozenset[str]
    """Modules the submission may import (exact names)."""
    reference: Callable[..., object]
    """Trusted, plain implementation: computes the expected outputs in the parent process, and its
    source (which must import nothing) is timed in the sandbox as the speed baseline."""
    make_arguments: Callable[[random.Random, tuple[int, ...]], Arguments]
    """Fresh random arguments of a given shape."""
    outputs_match: Callable[[object, object], bool]
    """``(expected, actual)`` -> whether the plain-data ``actual`` is a right answer."""
    check_shapes: tuple[tuple[int, ...], ...]
    """Shapes of the correctness cases (small, including odd ones)."""
    benchmark_shape: tuple[int, ...]
    """Shape of every benchmark case."""
    benchmark_loops: int = 5
    """Benchmark calls, each on fresh random inputs; speed compares medians."""
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    """Limits of each sandboxed run (the submission's, and the reference's for timing)."""

    @property
    def reference_source(self) -> str:
        """Source code of ``reference``, to run in the sandbox like a submission."""
        return textwrap.dedent(inspect.getsource(self.reference))

    def check_cases(self, rng: random.Random) -> list[Arguments]:
        """Fresh random arguments for each correctness shape."""
        return [self.make_arguments(rng, shape) for shape in self.check_shapes]

    def benchmark_cases(self, rng: random.Random) -> list[Arguments]:
        """``benchmark_loops`` sets of fresh random arguments of the benchmark shape."""
        return [self.make_arguments(rng, self.benchmark_shape) for _ in range(self.benchmark_loops)]
