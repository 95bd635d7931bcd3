__all__ = ("matmul", "transpose")


def transpose(matrix):
    return [list(column) for column in zip(*matrix)]


def matmul(A, B):
    columns = transpose(B)
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]
