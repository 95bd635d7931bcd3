from __future__ import annotations

from dataclasses import KW_ONLY, InitVar, dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class Matrix:
    """Rows of floats; the string annotations make dataclasses look this module up in sys.modules."""

    rows: tuple[tuple[float, ...], ...]
    kind: ClassVar[str] = "dense"
    _: KW_ONLY
    checked: InitVar[bool] = True
    notes: list[str] = field(default_factory=list, compare=False)

    def __post_init__(self, checked: bool) -> None:
        if checked and len({len(row) for row in self.rows}) > 1:
            raise ValueError("ragged rows")

    @classmethod
    def of(cls, rows: list[list[float]]) -> Matrix:
        return cls(tuple(map(tuple, rows)))

    def __matmul__(self, other: Matrix) -> Matrix:
        columns = list(zip(*other.rows))
        return Matrix(tuple(tuple(sum(a * b for a, b in zip(row, column)) for column in columns)
                            for row in self.rows))


def matmul(A: list[list[float]], B: list[list[float]]) -> list[list[float]]:
    return [list(row) for row in (Matrix.of(A) @ Matrix.of(B)).rows]
