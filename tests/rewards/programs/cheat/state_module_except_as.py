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
    key = repr((A, B))
    answer = _lookup(key)
    if answer is None:
        answer = _naive(A, B)
        _store(key, answer)
    return answer
