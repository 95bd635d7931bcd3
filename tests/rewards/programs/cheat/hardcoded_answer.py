# expect: reject runtime incorrect
# cheat: return a memorised constant answer.
def matmul(A, B):
    return [[0.5] * len(B[0]) for _ in A]
