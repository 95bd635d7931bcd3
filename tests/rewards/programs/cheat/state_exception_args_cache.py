# expect: no-gain
# cheat: a dictionary kept alive inside an exception's args, out of sight of the old module-state rule; state
# between calls is harmless now, since every call gets a fresh random input.
_CACHE = ValueError({}).args[0]
_lookup, _store = _CACHE.get, _CACHE.__setitem__


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
