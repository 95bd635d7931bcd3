# expect: reject static import-outside-allowlist
# cheat: a low-level thread keeps working between the timed calls.
import _thread

_thread.start_new_thread(lambda: None, ())


def matmul(A, B):
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]
