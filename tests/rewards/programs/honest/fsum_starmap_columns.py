import math
from itertools import starmap
from operator import mul


def matmul(A, B):
    """Each entry is an exactly rounded dot product: math.fsum over starmap(mul, ...)."""
    columns = [tuple(column) for column in zip(*B)]
    return [[math.fsum(starmap(mul, zip(row, column))) for column in columns] for row in A]
