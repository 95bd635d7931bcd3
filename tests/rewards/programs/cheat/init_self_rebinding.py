# expect: no-gain
# cheat: rebind self inside __init__ so that "self.cache" lands on the function.
class _Setup:
    def __init__(self):
        self = matmul
        self.cache = {}


def matmul(A, B):
    if "cache" not in dir(matmul):
        _Setup()
    key = repr((A, B))
    if key not in matmul.cache:
        matmul.cache[key] = [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
    return matmul.cache[key]
