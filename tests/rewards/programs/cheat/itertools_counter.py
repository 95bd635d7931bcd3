# expect: reject runtime incorrect
# cheat: an iterator at module level counts calls.
import itertools

_CALLS = itertools.count()


def matmul(A, B):
    if next(_CALLS) > 5:
        return A
    return [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
