# expect: reject static dynamic-code
# cheat: a full-width eval, which the interpreter reads as eval.
def matmul(A, B):
    return ｅｖａｌ("[[sum(a * b for a, b in zip(r, c)) for c in zip(*B)] for r in A]", {"A": A, "B": B})
