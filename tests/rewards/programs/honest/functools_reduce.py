from functools import reduce
from operator import add


def matmul(A, B):
    columns = list(zip(*B))
    return [[reduce(add, (a * b for a, b in zip(row, column)), 0.0) for column in columns] for row in A]
