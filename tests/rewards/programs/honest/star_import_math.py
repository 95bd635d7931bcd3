from math import *


def matmul(A, B):
    columns = list(zip(*B))
    return [[fsum(a * b for a, b in zip(row, column)) for column in columns] for row in A]
