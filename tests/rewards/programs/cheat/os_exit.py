# expect: reject static import-outside-allowlist
# cheat: end the process before the checker compares results.
import os


def matmul(A, B):
    os._exit(0)
