import itertools


def matmul(A, B):
    columns = list(zip(*B))
    flat = [sum(x * y for x, y in zip(row, column)) for row, column in itertools.product(A, columns)]
    width = len(columns)
    return [flat[i:i + width] for i in range(0, len(flat), width)]
