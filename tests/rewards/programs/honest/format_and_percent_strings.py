def describe(matrix):
    return "{}x{}".format(len(matrix), len(matrix[0]) if matrix else 0)


def matmul(A, B):
    if len(A[0]) != len(B):
        raise ValueError("shapes %s and %s do not match" % (describe(A), describe(B)))
    label = f"{describe(A)} @ {describe(B)}"
    assert label
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]
