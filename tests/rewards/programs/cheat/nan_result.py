# expect: reject runtime incorrect
# cheat: NaN compares unequal to everything, including to a checker that tests `not (a != b)`.
def matmul(A, B):
    return [[float("nan")] * len(B[0]) for _ in A]
