class DotProduct:
    def __init__(self):
        self.total = 0.0

    def add(self, a, b):
        self.total += a * b

    def result(self):
        return self.total


def dot(row, column):
    accumulator = DotProduct()
    for a, b in zip(row, column):
        accumulator.add(a, b)
    return accumulator.result()


def matmul(A, B):
    columns = list(zip(*B))
    return [[dot(row, column) for column in columns] for row in A]
