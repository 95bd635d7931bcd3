import dataclasses


@dataclasses.dataclass
class Accumulator:
    width: int
    rows: list = dataclasses.field(default_factory=list)
    name: str = dataclasses.field(default="C", repr=False)

    def add_row(self, values):
        if len(values) != self.width:
            raise ValueError(f"row of {len(values)} entries in a matrix of width {self.width}")
        self.rows.append(values)


def matmul(A, B):
    columns = list(zip(*B))
    out = Accumulator(len(columns))
    for row in A:
        out.add_row([sum(a * b for a, b in zip(row, column)) for column in columns])
    return out.rows
