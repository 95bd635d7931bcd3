import math
import operator


def matmul(A, B):
    columns = list(zip(*B))
    return [[math.fsum(map(operator.mul, row, column)) for column in columns] for row in A]
