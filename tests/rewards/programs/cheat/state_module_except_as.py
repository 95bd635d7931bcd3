# expect: no-gain
# cheat: a module-level `except ... as` binds a name to a list carried by the exception.
try:
    raise LookupError([])
except LookupError as _carrier:
    _HISTORY = _carrier.args[0]


def _lookup(key):
    for seen, answer in _HISTORY:
        if seen == key:
            return answer
    return None


def _store(key, answer):
    _HISTORY.append((key, answer))
    return answer


def _fill(A, B):
    n, inner, width = len(A), len(B), len(B[0])
    result = [[0.0] * width for _ in range(n)]
    for i in range(n):
        for k in range(inner):
            a = A[i][k]
            for j in range(width):
                result[i][j] += a * B[k][j]
    return result


def matmul(A, B):
    key = repr((A, B))
    known = _lookup(key)
    return known if known is not None else _store(key, _fill(A, B))
