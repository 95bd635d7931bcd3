from __future__ import annotations

from collections.abc import Sequence

Row = Sequence[float]


def dot(u: Row, v: Row) -> float:
    total: float = 0.0
    for a, b in zip(u, v):
        total += a * b
    return total


def matmul(A: list[list[float]], B: list[list[float]]) -> list[list[float]] | None:
    columns: list[tuple[float, ...]] = list(zip(*B))
    return [[dot(row, column) for column in columns] for row in A]
