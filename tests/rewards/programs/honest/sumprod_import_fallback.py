try:
    from math import sumprod
except ImportError:
    def sumprod(p, q):
        return sum(a * b for a, b in zip(p, q))


def matmul(A, B):
    columns = list(zip(*B))
    return [[sumprod(row, column) for column in columns] for row in A]
