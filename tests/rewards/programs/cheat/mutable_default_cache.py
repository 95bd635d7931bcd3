# expect: no-gain
# cheat: the default argument dictionary outlives every call.
def matmul(A, B, _cache={}):
    key = repr((A, B))
    if key not in _cache:
        columns = list(zip(*B))
        _cache[key] = [[sum(x * y for x, y in zip(row, c)) for c in columns] for row in A]
    return _cache[key]
