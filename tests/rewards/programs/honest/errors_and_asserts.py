class ShapeError(ValueError):
    """The matrices cannot be multiplied."""


def _validate(A, B):
    if not A or not B:
        raise ShapeError("empty matrix")
    width = len(A[0])
    if any(len(row) != width for row in A):
        raise ShapeError("ragged A")
    if width != len(B):
        raise ShapeError("A has %d columns but B has %d rows" % (width, len(B)))


def matmul(A, B):
    try:
        _validate(A, B)
    except ShapeError as error:
        raise ValueError(f"cannot multiply: {error}") from None
    else:
        columns = list(zip(*B))
        result = [[sum(a * b for a, b in zip(row, c)) for c in columns] for row in A]
    finally:
        pass
    assert len(result) == len(A)
    return result
