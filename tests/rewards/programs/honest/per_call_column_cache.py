def matmul(A, B):
    cache = {}

    def column(j):
        if j not in cache:
            cache[j] = [row[j] for row in B]
        return cache[j]

    width = len(B[0])
    return [[sum(a * b for a, b in zip(row, column(j))) for j in range(width)] for row in A]
