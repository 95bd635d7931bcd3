class Row:
    __slots__ = ("values", "length")

    def __init__(self, values):
        self.values = values
        self.length = len(values)

    def __len__(self):
        return self.length

    def __iter__(self):
        return iter(self.values)

    def __getitem__(self, index):
        return self.values[index]

    def dot(self, other):
        return sum(a * b for a, b in zip(self, other))


def matmul(A, B):
    columns = [Row(list(column)) for column in zip(*B)]
    return [[Row(row).dot(column) for column in columns] for row in A]
