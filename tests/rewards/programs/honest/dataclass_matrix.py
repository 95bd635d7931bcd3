from dataclasses import dataclass, field


@dataclass(frozen=True)
class Matrix:
    rows: list
    height: int = field(init=False)
    width: int = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "height", len(self.rows))
        object.__setattr__(self, "width", len(self.rows[0]) if self.rows else 0)

    def transposed(self):
        return Matrix([list(column) for column in zip(*self.rows)])

    def __matmul__(self, other):
        columns = other.transposed().rows
        return Matrix([[sum(a * b for a, b in zip(row, column)) for column in columns] for row in self.rows])


def matmul(A, B):
    return (Matrix(A) @ Matrix(B)).rows
