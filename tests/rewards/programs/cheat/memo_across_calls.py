# expect: no-gain
# cheat: remember every answer by its inputs; it pays only if an input is ever sent twice (a warm-up call, a
# correctness call repeated as a benchmark call), which the parent never does.
import functools


@functools.lru_cache(maxsize=None)
def _product(A, B):
    return _naive(A, B)


def _naive(A, B):
    result = []
    for i in range(len(A)):
        row = []
        for j in range(len(B[0])):
            total = 0.0
            for k in range(len(B)):
                total += A[i][k] * B[k][j]
            row.append(total)
        result.append(row)
    return result


def matmul(A, B):
    return [list(row) for row in _product(tuple(map(tuple, A)), tuple(map(tuple, B)))]
