# expect: reject runtime
# cheat: the same trick with a lambda in the class body.
class _Close(float):
    __eq__ = lambda self, other: True


def matmul(A, B):
    return [[_Close(0.0)] * len(B[0]) for _ in A]
