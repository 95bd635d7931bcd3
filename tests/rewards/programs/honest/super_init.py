class Grid:
    def __init__(self, rows):
        self.rows = rows
        self.height = len(rows)
        self.width = len(rows[0]) if rows else 0


class Matrix(Grid):
    def __init__(self, rows):
        super().__init__(rows)
        self.columns = [list(column) for column in zip(*rows)]

    def times(self, other):
        return [[sum(a * b for a, b in zip(row, column)) for column in other.columns] for row in self.rows]


def matmul(A, B):
    return Matrix(A).times(Matrix(B))
