from collections import abc


def _as_rows(matrix):
    if not isinstance(matrix, abc.Sequence):
        raise TypeError("a matrix is a sequence of rows")
    return [list(row) for row in matrix]


def matmul(A, B):
    rows, columns = _as_rows(A), list(zip(*_as_rows(B)))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in rows]
