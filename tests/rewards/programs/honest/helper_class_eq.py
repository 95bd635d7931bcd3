class Shape:
    def __init__(self, rows, columns):
        self.rows = rows
        self.columns = columns

    def __eq__(self, other):
        return isinstance(other, Shape) and (self.rows, self.columns) == (other.rows, other.columns)

    def __hash__(self):
        return hash((self.rows, self.columns))

    def __repr__(self):
        return f"Shape({self.rows}, {self.columns})"


def shape_of(matrix):
    return Shape(len(matrix), len(matrix[0]) if matrix else 0)


def matmul(A, B):
    if shape_of(A).columns != shape_of(B).rows:
        raise ValueError(f"cannot multiply {shape_of(A)} by {shape_of(B)}")
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]
