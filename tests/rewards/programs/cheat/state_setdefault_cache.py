# expect: no-gain
# cheat: a bound method of an anonymous dictionary holds the cache.
_remember = {}.setdefault


def _naive(A, B):
    result = []
    for i in range(len(A)):
        row = []
        for j in range(len(B[0])):
            total = 0.0
            for k in range(len(B)):
                total += A[i][k] * B[k][j]
            row.append(total)
        result.append(row)
    return result


def matmul(A, B):
    key = repr((A, B))
    answer = _remember(key, None)
    if answer is None:
        answer = _naive(A, B)
        _remember(key, answer)
    return _remember(key, answer)
