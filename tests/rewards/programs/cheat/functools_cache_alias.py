# expect: no-gain
# cheat: functools.cache hidden behind an alias.
from functools import cache as remember


@remember
def _dot(row, column):
    return sum(x * y for x, y in zip(row, column))


def matmul(A, B):
    columns = list(zip(*B))
    return [[_dot(tuple(row), column) for column in columns] for row in A]
