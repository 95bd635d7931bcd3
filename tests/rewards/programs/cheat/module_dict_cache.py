# expect: no-gain
# cheat: a module-level dictionary remembers results between calls.
_CACHE = {}


def matmul(A, B):
    key = (str(A), str(B))
    if key not in _CACHE:
        columns = list(zip(*B))
        _CACHE[key] = [[sum(x * y for x, y in zip(row, c)) for c in columns] for row in A]
    return _CACHE[key]
