class MatrixMultiplier:
    """A reusable multiplier object; the instance itself is the entry point."""

    def __init__(self, block=16):
        self.block = block

    def __call__(self, A, B):
        n, m, p = len(A), len(B), len(B[0])
        C = [[0.0] * p for _ in range(n)]
        for k0 in range(0, m, self.block):
            for i in range(n):
                a_row, c_row = A[i], C[i]
                for k in range(k0, min(k0 + self.block, m)):
                    a, b_row = a_row[k], B[k]
                    for j in range(p):
                        c_row[j] += a * b_row[j]
        return C


matmul = MatrixMultiplier()
