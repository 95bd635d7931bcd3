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


def matmul(A, B):
    _read_ahead()
    result = [[] for _ in A]
    for column in zip(*B):
        for out, row in zip(result, A):
            out.append(sum(a * b for a, b in zip(row, column)))
    return result
