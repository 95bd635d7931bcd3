# expect: reject static import-outside-allowlist
# cheat: ctypes reads and writes raw memory.
import ctypes


def matmul(A, B):
    ctypes.memmove(0, 0, 0)
    return A
