# expect: no-gain
# cheat: a base whose __mro_entries__ returns type makes the class a metaclass in disguise, with a cache.
class _Disguise:
    def __mro_entries__(self, bases):
        return (type,)


class _Meta(_Disguise()):
    cache = {}


_lookup, _store = _Meta.cache.get, _Meta.cache.__setitem__


def _product(A, B):
    width = range(len(B[0]))
    result = []
    for row in A:
        result.append([sum(a * b_row[j] for a, b_row in zip(row, B)) for j in width])
    return result


def matmul(A, B):
    key = repr((A, B))
    if _lookup(key) is None:
        _store(key, _product(A, B))
    return _lookup(key)
