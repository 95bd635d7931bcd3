# expect: no-gain
# cheat: a base whose __mro_entries__ returns type makes the class a metaclass in disguise, with a cache.
class _Disguise:
    def __mro_entries__(self, bases):
        return (type,)


class _Meta(_Disguise()):
    cache = {}


_lookup, _store = _Meta.cache.get, _Meta.cache.__setitem__


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
