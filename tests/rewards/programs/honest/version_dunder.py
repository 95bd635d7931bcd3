"""Matrix multiplication, version-stamped."""

__version__ = "1.2.0"
__author__ = "someone"
__all__ = ["matmul"]


def matmul(A, B):
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]
