# expect: reject static frame-introspection
# cheat: vars() exposes a module's namespace for writing.
import math


def matmul(A, B):
    vars(math)["expected"] = A
    return A
