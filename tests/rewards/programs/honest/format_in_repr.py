class Matrix:
    def __init__(self, rows):
        self.rows = rows

    def __repr__(self):
        return "{0.__class__.__name__}({1} x {2})".format(self, len(self.rows), len(self.rows[0]))

    def __str__(self):
        return "\n".join(" ".join("{:8.3f}".format(value) for value in row) for row in self.rows)


def matmul(A, B):
    columns = list(zip(*B))
    product = Matrix([[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A])
    assert repr(product).startswith("Matrix(")
    return product.rows
