import operator


def matmul(A, B):
    columns = list(zip(*B))
    return [list(map(lambda column, row=row: sum(map(operator.mul, row, column)), columns)) for row in A]
