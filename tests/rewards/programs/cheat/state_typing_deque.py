# expect: no-gain
# cheat: typing.Deque() keeps recent answers.
import typing

_RECENT = typing.Deque(maxlen=64)


def _recall(key):
    return next((answer for seen, answer in _RECENT if seen == key), None)


def _dot(A, B, i, j):
    total = 0.0
    for k, a in enumerate(A[i]):
        total += a * B[k][j]
    return total


def matmul(A, B):
    key = repr((A, B))
    answer = _recall(key)
    if answer is None:
        answer = [[_dot(A, B, i, j) for j in range(len(B[0]))] for i in range(len(A))]
        _RECENT.append((key, answer))
    return answer
