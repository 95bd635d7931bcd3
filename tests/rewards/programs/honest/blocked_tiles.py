TILE = 8


def tiles(length, size=TILE):
    for start in range(0, length, size):
        yield start, min(start + size, length)


def matmul(A, B):
    n, inner, width = len(A), len(B), len(B[0])
    C = [[0.0] * width for _ in range(n)]
    for i0, i1 in tiles(n):
        for k0, k1 in tiles(inner):
            for j0, j1 in tiles(width):
                for i in range(i0, i1):
                    a_row, c_row = A[i], C[i]
                    for k in range(k0, k1):
                        a, b_row = a_row[k], B[k]
                        for j in range(j0, j1):
                            c_row[j] += a * b_row[j]
    return C
