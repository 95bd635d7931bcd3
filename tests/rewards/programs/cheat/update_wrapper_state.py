# expect: reject static dynamic-attribute
# cheat: update_wrapper copies an object's attributes (a cache) onto the function.
import functools


class _Box:
    def __init__(self):
        self.cache = {}


def matmul(A, B):
    key = repr((A, B))
    if key not in matmul.cache:
        matmul.cache[key] = [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
    return matmul.cache[key]


functools.update_wrapper(matmul, _Box())
