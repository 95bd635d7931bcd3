from itertools import starmap
from operator import mul


def matmul(A, B):
    columns = list(zip(*B))
    return [[sum(starmap(mul, zip(row, column))) for column in columns] for row in A]
