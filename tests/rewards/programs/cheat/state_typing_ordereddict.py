# expect: no-gain
# cheat: typing.OrderedDict() is a pure-looking call that returns a mutable cache.
import typing

_CACHE = typing.OrderedDict()
_lookup, _store = _CACHE.get, _CACHE.__setitem__


def matmul(A, B):
    key = repr((A, B))
    cached = _lookup(key)
    if cached is not None:
        return cached
    columns = [list(column) for column in zip(*B)]
    product = [[sum(map(lambda a, b: a * b, row, column)) for column in columns] for row in A]
    _store(key, product)
    return product
