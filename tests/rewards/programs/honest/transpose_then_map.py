from operator import mul


def transpose(matrix):
    return list(map(list, zip(*matrix)))


def matmul(A, B):
    columns = transpose(B)
    return [list(map(lambda column, row=row: sum(map(mul, row, column)), columns)) for row in A]
