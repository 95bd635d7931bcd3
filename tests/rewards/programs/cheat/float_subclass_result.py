# expect: reject runtime
# cheat: entries of a float subclass that equals anything; only exact floats cross back to the parent.
class _Loose(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def matmul(A, B):
    return [[_Loose(0.0)] * len(B[0]) for _ in A]
