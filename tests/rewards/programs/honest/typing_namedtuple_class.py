from typing import NamedTuple


class Dimensions(NamedTuple):
    n: int
    m: int
    p: int

    @classmethod
    def of(cls, A, B):
        return cls(len(A), len(B), len(B[0]))


def matmul(A, B):
    d = Dimensions.of(A, B)
    return [[sum(A[i][k] * B[k][j] for k in range(d.m)) for j in range(d.p)] for i in range(d.n)]
