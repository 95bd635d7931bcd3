import copy


class Matrix:
    def __init__(self, rows):
        self._rows = copy.deepcopy(rows)

    @classmethod
    def of(cls, rows):
        return cls(rows)

    @staticmethod
    def dot(u, v):
        return sum(a * b for a, b in zip(u, v))

    @property
    def columns(self):
        return list(zip(*self._rows))

    def times(self, other):
        columns = other.columns
        return type(self)([[self.dot(row, column) for column in columns] for row in self._rows])


def matmul(A, B):
    return Matrix.of(A).times(Matrix.of(B))._rows
