import copy
import math
from numbers import Real


def matmul(A, B):
    B = copy.deepcopy(B)
    if not all(isinstance(v, Real) for row in B for v in row):
        raise TypeError("entries must be real numbers")
    p = len(B[0]) if B else 0
    return [[math.fsum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(p)] for i in range(len(A))]
