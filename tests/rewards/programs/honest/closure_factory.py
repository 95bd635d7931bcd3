def make_matmul(accumulate=sum):
    def dot(row, column):
        return accumulate(a * b for a, b in zip(row, column))

    def multiply(A, B):
        columns = list(zip(*B))
        return [[dot(row, column) for column in columns] for row in A]

    return multiply


matmul = make_matmul()
