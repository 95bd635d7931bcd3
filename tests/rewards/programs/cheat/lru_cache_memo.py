# expect: no-gain
# cheat: memoise on the matrices turned into tuples.
import functools


@functools.lru_cache(maxsize=None)
def _product(a, b):
    columns = list(zip(*b))
    return tuple(tuple(sum(x * y for x, y in zip(row, column)) for column in columns) for row in a)


def matmul(A, B):
    return [list(row) for row in _product(tuple(map(tuple, A)), tuple(map(tuple, B)))]
