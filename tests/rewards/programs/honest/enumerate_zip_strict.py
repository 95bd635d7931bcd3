def matmul(A, B):
    if not A or not B:
        return [[] for _ in A]
    columns = tuple(zip(*B, strict=True))
    product = []
    for i, row in enumerate(A):
        if len(row) != len(B):
            raise ValueError(f"row {i} has {len(row)} entries, expected {len(B)}")
        product.append([sum(x * y for x, y in zip(row, column, strict=True)) for column in columns])
    return product
