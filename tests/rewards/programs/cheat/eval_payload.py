# expect: reject static dynamic-code
# cheat: eval of an expression that imports numpy.
def matmul(A, B):
    return eval("__import__('numpy').dot(A, B).tolist()")
