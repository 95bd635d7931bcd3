# expect: reject runtime
# cheat: a reply nested far deeper than any matrix, to overflow the parent's decoder or checker.
def matmul(A, B):
    result = [1.0]
    for _ in range(100_000):
        result = [result]
    return result
