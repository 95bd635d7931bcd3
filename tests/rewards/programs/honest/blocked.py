BLOCK = 16


def matmul(A, B):
    n, m, p = len(A), len(B), len(B[0])
    C = [[0.0] * p for _ in range(n)]
    for ii in range(0, n, BLOCK):
        for kk in range(0, m, BLOCK):
            for jj in range(0, p, BLOCK):
                for i in range(ii, min(ii + BLOCK, n)):
                    row_a = A[i]
                    row_c = C[i]
                    for k in range(kk, min(kk + BLOCK, m)):
                        a = row_a[k]
                        row_b = B[k]
                        for j in range(jj, min(jj + BLOCK, p)):
                            row_c[j] += a * row_b[j]
    return C
