# expect: reject runtime incorrect
# cheat: return the input unchanged, quickly.
def matmul(A, B):
    return A
