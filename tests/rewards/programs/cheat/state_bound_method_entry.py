# expect: no-gain
# cheat: the entry point is a bound method of an instance made at import, with a cache on the instance.
class _Solver:
    def __init__(self):
        self.cache = {}

    def run(self, A, B):
        key = repr((A, B))
        if key not in self.cache:
            self.cache[key] = _naive(A, B)
        return self.cache[key]


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


matmul = _Solver().run
