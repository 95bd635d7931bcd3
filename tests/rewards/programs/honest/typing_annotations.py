from typing import Callable, List, Sequence, TypeVar

Number = TypeVar("Number", int, float)
Matrix = List[List[float]]
Combine = Callable[[float, float], float]


def dot(u: Sequence[float], v: Sequence[float], combine: Combine = lambda a, b: a * b) -> float:
    return sum(combine(a, b) for a, b in zip(u, v))


def matmul(A: Matrix, B: Matrix) -> Matrix:
    columns: List[Sequence[float]] = list(zip(*B))
    return [[dot(row, column) for column in columns] for row in A]
