import collections

Shape = collections.namedtuple("Shape", "rows inner columns")


def shape_of(A, B):
    return Shape(len(A), len(B), len(B[0]))


def matmul(A, B):
    shape = shape_of(A, B)
    result = [[0.0] * shape.columns for _ in range(shape.rows)]
    for i in range(shape.rows):
        target, source = result[i], A[i]
        for k in range(shape.inner):
            a, row = source[k], B[k]
            for j in range(shape.columns):
                target[j] += a * row[j]
    return result
