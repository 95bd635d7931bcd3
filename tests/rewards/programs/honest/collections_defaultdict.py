from collections import defaultdict


def matmul(A, B):
    width = len(B[0])
    sums = defaultdict(float)
    for i, row in enumerate(A):
        for k, a in enumerate(row):
            b_row = B[k]
            for j in range(width):
                sums[i, j] += a * b_row[j]
    return [[sums[i, j] for j in range(width)] for i in range(len(A))]
