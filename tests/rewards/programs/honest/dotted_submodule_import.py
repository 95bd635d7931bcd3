import collections.abc
import collections.abc as abc_types


def matmul(A: collections.abc.Sequence, B: abc_types.Sequence) -> list[list[float]]:
    if not isinstance(A, collections.abc.Sequence) or not isinstance(B, abc_types.Sequence):
        raise TypeError("matrices are sequences of rows")
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]
