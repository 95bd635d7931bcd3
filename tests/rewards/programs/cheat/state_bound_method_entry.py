# expect: no-gain
# cheat: the entry point is a bound method of an instance made at import, with a cache on the instance.
class _Solver:
    def __init__(self):
        self.cache = {}

    def run(self, A, B):
        key = repr((A, B))
        if key not in self.cache:
            self.cache[key] = _product(A, B)
        return self.cache[key]


def _product(A, B):
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]


matmul = _Solver().run
