# expect: no-gain
# cheat: matmul is a closure made at import, holding a cache.
def _make_matmul():
    cache = {}

    def matmul(A, B):
        key = repr((A, B))
        if key not in cache:
            columns = list(zip(*B))
            cache[key] = [[sum(x * y for x, y in zip(row, c)) for c in columns] for row in A]
        return cache[key]

    return matmul


matmul = _make_matmul()
