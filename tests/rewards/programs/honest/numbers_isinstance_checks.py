"""Validate the entries with the numbers ABCs before multiplying."""
import numbers


def _check(matrix, label):
    for row in matrix:
        for entry in row:
            if not isinstance(entry, numbers.Real):
                raise TypeError(f"{label} holds {entry!r}, not a real number")


def matmul(A, B):
    _check(A, "A")
    _check(B, "B")
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]
