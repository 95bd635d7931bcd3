# expect: reject static import-outside-allowlist
# cheat: make every clock of the process stand still, so that any call looks instantaneous.
import time

time.perf_counter = time.process_time = time.monotonic = time.perf_counter_ns = lambda: 0


def matmul(A, B):
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]
