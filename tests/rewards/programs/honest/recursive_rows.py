def _row_times(row, B):
    if len(B) == 1:
        return [row[0] * b for b in B[0]]
    head = [row[0] * b for b in B[0]]
    rest = _row_times(row[1:], B[1:])
    return [x + y for x, y in zip(head, rest)]


def matmul(A, B):
    if not A:
        return []
    return [_row_times(A[0], B)] + matmul(A[1:], B)
