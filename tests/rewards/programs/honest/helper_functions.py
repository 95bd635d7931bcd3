"""Matrix product built from small module-level helpers."""

ZERO = 0.0


def transpose(matrix):
    return [list(column) for column in zip(*matrix)]


def dot(u, v):
    total = ZERO
    for x, y in zip(u, v):
        total += x * y
    return total


def matmul(A, B):
    columns = transpose(B)
    return [[dot(row, column) for column in columns] for row in A]
