# expect: reject static import-outside-allowlist
# cheat: numpy reached with a from-import inside the function.
def matmul(A, B):
    from numpy import dot
    return dot(A, B).tolist()
