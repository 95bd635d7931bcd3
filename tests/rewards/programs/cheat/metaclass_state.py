# expect: no-gain
# cheat: a metaclass attaches a cache to the class when it is created.
class _Registry(type):
    def __init__(cls, name, bases, namespace):
        cls.cache = {}


class Holder(metaclass=_Registry):
    pass


def matmul(A, B):
    key = repr((A, B))
    if key not in Holder.cache:
        Holder.cache[key] = [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
    return Holder.cache[key]
