def matmul(A, B):
    n, m, p = len(A), len(B), len(B[0])
    C = []
    i = 0
    while i < n:
        row = [0.0] * p
        k = 0
        while k < m:
            a = A[i][k]
            b = B[k]
            j = 0
            while j < p:
                row[j] += a * b[j]
                j += 1
            k += 1
        C.append(row)
        i += 1
    return C
