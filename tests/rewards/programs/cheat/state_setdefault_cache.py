# expect: no-gain
# cheat: a bound method of an anonymous dictionary holds the cache.
_remember = {}.setdefault


def _scaled_rows_sum(A, B):
    result = []
    for row in A:
        out = [0.0] * len(B[0])
        for a, b_row in zip(row, B):
            out = [o + a * b for o, b in zip(out, b_row)]
        result.append(out)
    return result


def matmul(A, B):
    box = _remember(repr((A, B)), [])
    if not box:
        box.append(_scaled_rows_sum(A, B))
    return box[0]
