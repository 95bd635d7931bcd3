import operator


def column(B, j):
    return list(map(operator.itemgetter(j), B))


def matmul(A, B):
    columns = [column(B, j) for j in range(len(B[0]))]
    return [[sum(map(operator.mul, row, c)) for c in columns] for row in A]
