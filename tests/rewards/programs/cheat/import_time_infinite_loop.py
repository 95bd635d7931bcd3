# expect: reject runtime
# cheat: never finish loading, to hang the judge.
while True:
    pass


def matmul(A, B):
    return A
