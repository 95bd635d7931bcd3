# expect: no-gain
# cheat: a dictionary kept alive inside an exception's args, out of sight of the old module-state rule; state
# between calls is harmless now, since every call gets a fresh random input.
_CACHE = ValueError({}).args[0]
_lookup, _store = _CACHE.get, _CACHE.__setitem__


def _dot(row, column):
    return sum(a * b for a, b in zip(row, column))


def matmul(A, B):
    key = repr((A, B))
    if (answer := _lookup(key)) is None:
        columns = list(zip(*B))
        answer = [[_dot(row, column) for column in columns] for row in A]
        _store(key, answer)
    return answer
