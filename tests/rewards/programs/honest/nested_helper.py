def matmul(A, B):
    columns = [list(column) for column in zip(*B)]
    memo = {}

    def column_dot(row, j):
        column = memo.get(j)
        if column is None:
            column = memo[j] = columns[j]
        return sum(x * y for x, y in zip(row, column))

    return [[column_dot(row, j) for j in range(len(columns))] for row in A]
