# expect: reject static dunder-access
# cheat: replace sum in the builtins the harness also uses.
__builtins__["sum"] = lambda values, start=0: 0.0


def matmul(A, B):
    return A
