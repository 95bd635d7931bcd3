from functools import reduce
from itertools import accumulate, chain, islice, repeat


def _scaled_rows(row, B):
    return (map(a.__mul__, b_row) for a, b_row in zip(row, B))


def matmul(A, B):
    p = len(B[0]) if B else 0
    result = []
    for row in A:
        total = reduce(lambda acc, scaled: [x + y for x, y in zip(acc, scaled)], _scaled_rows(row, B),
                       list(repeat(0.0, p)))
        result.append(list(islice(chain(total), p)))
    assert list(accumulate([1, 2])) == [1, 3]
    return result
