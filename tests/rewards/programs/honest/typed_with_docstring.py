from __future__ import annotations

from typing import List

Matrix = List[List[float]]


def matmul(A: Matrix, B: Matrix) -> Matrix:
    """Return the product A @ B of two matrices given as lists of rows.

    Raises ValueError when the inner dimensions differ.
    """
    if not A or not B:
        raise ValueError("matrices must not be empty")
    inner = len(B)
    if any(len(row) != inner for row in A):
        raise ValueError(f"cannot multiply: A has rows of length {len(A[0])}, B has {inner} rows")
    width = len(B[0])
    result: Matrix = []
    for row in A:
        out = [0.0] * width
        for a, b_row in zip(row, B):
            for j in range(width):
                out[j] += a * b_row[j]
        result.append(out)
    return result
