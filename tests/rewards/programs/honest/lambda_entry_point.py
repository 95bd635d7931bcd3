matmul = lambda A, B: [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]  # noqa: E731
