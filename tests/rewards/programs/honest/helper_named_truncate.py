def truncate(rows, width):
    """Keep the first `width` entries of every row."""
    return [row[:width] for row in rows]


def remove_empty(rows):
    return [row for row in rows if row]


def matmul(A, B):
    inner = min(len(B), min(len(row) for row in A))
    left = truncate(remove_empty(A), inner)
    columns = list(zip(*B[:inner]))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in left]
