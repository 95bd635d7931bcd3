# expect: reject runtime
# cheat: an enormous reply, to exhaust the parent that reads and checks it.
def matmul(A, B):
    row = [0.5] * 4_000_000
    return [row] * 16
