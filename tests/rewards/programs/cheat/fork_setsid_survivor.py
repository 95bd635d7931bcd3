# expect: reject static import-outside-allowlist
# cheat: fork a child that calls setsid, so that it outlives the process group and keeps working for later calls.
import os

if os.fork() == 0:
    os.setsid()
    while True:
        pass


def matmul(A, B):
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]
