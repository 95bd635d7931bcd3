import functools
import operator


def dot(row, column):
    return sum(map(operator.mul, row, column))


def matmul(A, B):
    columns = list(zip(*B))
    rows = []
    for row in A:
        with_row = functools.partial(dot, row)
        rows.append(list(map(with_row, columns)))
    return rows
