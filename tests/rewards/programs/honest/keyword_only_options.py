def matmul(A, B, /, *, transpose_first=True, start=0.0):
    """``A @ B``; keyword-only options with defaults, positional-only matrices."""
    if transpose_first:
        columns = [list(column) for column in zip(*B, strict=True)]
    else:
        columns = [[B[k][j] for k in range(len(B))] for j in range(len(B[0]))]
    return [[sum((a * b for a, b in zip(row, column, strict=True)), start) for column in columns] for row in A]
