# expect: no-gain
# cheat: read ahead on standard input, where a harness might receive the next inputs; the sandbox's stdin is
# /dev/null, the parent sends each input only after the previous answer, and input() and open() are gone.
def _read_ahead():
    for reader in (lambda: input(), lambda: open(0).read(1 << 16)):
        try:
            return reader()
        except Exception:
            pass
    return None


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
    _read_ahead()
    return _naive(A, B)
