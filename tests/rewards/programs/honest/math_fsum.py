import math


def matmul(A, B):
    """Exactly rounded dot products with math.fsum."""
    columns = list(zip(*B))
    return [[math.fsum(a * b for a, b in zip(row, column)) for column in columns] for row in A]
