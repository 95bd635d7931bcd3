# expect: reject static import-outside-allowlist
# cheat: patch the timer so the benchmark sees no time pass.
import time

time.perf_counter = lambda: 0.0


def matmul(A, B):
    return [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
