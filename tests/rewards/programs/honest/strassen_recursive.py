"""Strassen's algorithm on padded square blocks, plain loops below a cut-off."""

CUTOFF = 16


def _add(X, Y):
    return [[x + y for x, y in zip(a, b)] for a, b in zip(X, Y)]


def _sub(X, Y):
    return [[x - y for x, y in zip(a, b)] for a, b in zip(X, Y)]


def _plain(X, Y):
    columns = list(zip(*Y))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in X]


def _split(X):
    h = len(X) // 2
    return ([r[:h] for r in X[:h]], [r[h:] for r in X[:h]], [r[:h] for r in X[h:]], [r[h:] for r in X[h:]])


def _strassen(X, Y):
    if len(X) <= CUTOFF:
        return _plain(X, Y)
    a, b, c, d = _split(X)
    e, f, g, h = _split(Y)
    p1 = _strassen(a, _sub(f, h))
    p2 = _strassen(_add(a, b), h)
    p3 = _strassen(_add(c, d), e)
    p4 = _strassen(d, _sub(g, e))
    p5 = _strassen(_add(a, d), _add(e, h))
    p6 = _strassen(_sub(b, d), _add(g, h))
    p7 = _strassen(_sub(a, c), _add(e, f))
    top_left = _add(_sub(_add(p5, p4), p2), p6)
    top_right = _add(p1, p2)
    bottom_left = _add(p3, p4)
    bottom_right = _sub(_sub(_add(p1, p5), p3), p7)
    return [w + e for w, e in zip(top_left, top_right)] + [w + e for w, e in zip(bottom_left, bottom_right)]


def _pad(X, size):
    return [list(row) + [0.0] * (size - len(row)) for row in X] + [[0.0] * size for _ in range(size - len(X))]


def matmul(A, B):
    n, m, p = len(A), len(B), len(B[0])
    size = 1
    while size < max(n, m, p):
        size *= 2
    product = _strassen(_pad(A, size), _pad(B, size))
    return [row[:p] for row in product[:n]]
