"""The matmul task: write a fast pure-Python ``matmul(A, B)`` on lists of lists of floats."""

from __future__ import annotations

import math
import random

from runtime.rewards.coding_task import Arguments, CodingTask

Matrix = list[list[float]]


def naive_matmul(A: list[list[float]], B: list[list[float]]) -> list[list[float]]:
    """The textbook triple loop: the reference for results and the baseline for speed. Self-contained,
    because its source is also run in the sandbox."""
    result = []
    for i in range(len(A)):
        row = []
        for j in range(len(B[0])):
            total = 0.0
            for k in range(len(B)):
                total += A[i][k] * B[k][j]
            row.append(total)
        result.append(row)
    return result


def random_matrices(rng: random.Random, shape: tuple[int, ...]) -> Arguments:
    """``(A, B)`` with A of ``n x m`` and B of ``m x p`` for ``shape == (n, m, p)``, entries in [-1, 1)."""
    rows, inner, columns = shape
    return (
        [[rng.uniform(-1.0, 1.0) for _ in range(inner)] for _ in range(rows)],
        [[rng.uniform(-1.0, 1.0) for _ in range(columns)] for _ in range(inner)],
    )


def as_float_matrix(value: object) -> Matrix | None:
    """``value`` as a fresh list of lists of exact floats, or None when it is not a matrix of numbers."""
    if type(value) is not list or any(type(row) is not list for row in value):
        return None
    if any(type(entry) not in (int, float) for row in value for entry in row):
        return None
    try:
        return [[float(entry) for entry in row] for row in value]
    except OverflowError:  # an integer beyond the float range
        return None


def matrices_match(expected: Matrix, actual: object) -> bool:
    """Same shape, and every entry within 1e-9 (relative or absolute) of the reference. The shape is
    compared first, so that an answer far larger than the reference costs no more than the reference's
    size to refuse."""
    if type(actual) is not list or len(actual) != len(expected) or any(
        type(row) is not list or len(row) != len(expected_row)
        for row, expected_row in zip(actual, expected, strict=True)
    ):
        return False
    matrix = as_float_matrix(actual)
    return matrix is not None and all(
        math.isclose(value, expected_value, rel_tol=1e-9, abs_tol=1e-9)
        for row, expected_row in zip(matrix, expected, strict=True)
        for value, expected_value in zip(row, expected_row, strict=True)
    )


MATMUL = CodingTask(
    name="matmul",
    entry_point="matmul",
    arity=2,
    allowed_modules=frozenset({
        "math", "cmath", "itertools", "operator", "functools", "array", "typing", "numbers", "__future__",
        "dataclasses", "collections", "collections.abc", "copy", "abc",
    }),
    reference=naive_matmul,
    make_arguments=random_matrices,
    outputs_match=matrices_match,
    check_shapes=((1, 1, 1), (2, 3, 4), (5, 1, 3), (4, 4, 4), (3, 7, 2), (6, 5, 1)),
    benchmark_shape=(40, 40, 40),
    benchmark_loops=5,
)
"""``matmul(A: list[list[float]], B: list[list[float]]) -> list[list[float]]``, checked against the
naive triple loop and timed relative to it. The allowlist is the pure-Python standard library a plain solution
may want (arithmetic, iteration, functional helpers, typing, dataclasses, containers, copies); numerical
libraries and everything that reaches the operating system are not on it."""
