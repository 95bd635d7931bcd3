import copy


def matmul(A, B):
    """Work on private copies, so that the caller's lists are never touched."""
    left, right = copy.deepcopy(A), copy.deepcopy(B)
    columns = [list(column) for column in zip(*right)]
    return [[sum(x * y for x, y in zip(row, column)) for column in columns] for row in left]
