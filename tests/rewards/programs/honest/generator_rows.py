def matmul(A, B):
    columns = [list(column) for column in zip(*B)]

    def products(row):
        for column in columns:
            yield sum(a * b for a, b in zip(row, column))

    def rows():
        for row in A:
            yield list(products(row))

    return list(rows())
