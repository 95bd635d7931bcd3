# expect: no-gain
# cheat: a global counter decides when to do real work.
CALLS = 0


def matmul(A, B):
    global CALLS
    CALLS += 1
    columns = list(zip(*B))
    return [[sum(x * y for x, y in zip(row, c)) for c in columns] for row in A]
