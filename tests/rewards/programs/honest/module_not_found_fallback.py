try:
    from numpy import matmul as _native_matmul
except ModuleNotFoundError:
    _native_matmul = None


def matmul(A, B):
    """A numpy fast path where numpy is installed, pure Python where it is not."""
    if _native_matmul is not None:
        return _native_matmul(A, B).tolist()
    result = []
    for row in A:
        out = [0.0] * len(B[0])
        for a, b_row in zip(row, B):
            for j, b in enumerate(b_row):
                out[j] += a * b
        result.append(out)
    return result
