# expect: reject static dunder-access
# cheat: format fields walk attributes, dunders included.
def matmul(A, B):
    leak = "{0.__class__.__mro__}".format(A)
    return [[float(len(leak))]]
