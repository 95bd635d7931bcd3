# expect: reject static dynamic-code
# cheat: breakpoint imports pdb, which runs commands and imports anything.
def matmul(A, B):
    breakpoint()
    return A
