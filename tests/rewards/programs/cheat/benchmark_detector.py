# expect: reject runtime incorrect
# cheat: right on small checks, garbage on large benchmark inputs.
def matmul(A, B):
    if len(A) > 8:
        return [[0.0] * len(B[0]) for _ in A]
    return [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
