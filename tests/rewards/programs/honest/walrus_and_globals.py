CALLS = 0


def matmul(A, B):
    global CALLS
    CALLS += 1
    if not (columns := list(zip(*B))):
        return [[] for _ in A]
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]
