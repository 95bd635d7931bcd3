# expect: no-gain
# cheat: operator.call(dict) builds the cache through an allowed pure function.
import operator

_CACHE = operator.call(dict)
_lookup, _store = _CACHE.get, _CACHE.__setitem__
_MISSING = object()


def _multiply(A, B):
    columns = list(zip(*B))
    return [[sum(map(operator.mul, row, column)) for column in columns] for row in A]


def matmul(A, B):
    key = repr((A, B))
    answer = _lookup(key, _MISSING)
    if answer is _MISSING:
        answer = _multiply(A, B)
        _store(key, answer)
    return answer
