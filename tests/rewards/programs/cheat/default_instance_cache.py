# expect: no-gain
# cheat: an object created once as a default argument stores results.
class _Store:
    def __init__(self):
        self.results = {}


def matmul(A, B, store=_Store()):
    key = repr((A, B))
    if key not in store.results:
        store.results[key] = [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
    return store.results[key]
