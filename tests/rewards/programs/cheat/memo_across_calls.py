# expect: no-gain
# cheat: remember every answer by its inputs; it pays only if an input is ever sent twice (a warm-up call, a
# correctness call repeated as a benchmark call), which the parent never does.
import functools


@functools.lru_cache(maxsize=None)
def _product(A, B):
    rows = []
    for row in A:
        out = [0.0] * len(B[0])
        for k, b_row in enumerate(B):
            a = row[k]
            for j in range(len(b_row)):
                out[j] += a * b_row[j]
        rows.append(tuple(out))
    return tuple(rows)


def matmul(A, B):
    frozen_a, frozen_b = tuple(map(tuple, A)), tuple(map(tuple, B))
    return [list(row) for row in _product(frozen_a, frozen_b)]
