# expect: reject static dunder-access
# cheat: ctypes through the import function itself, to run machine code.
_ctypes = __import__("ct" + "ypes")


def matmul(A, B):
    _ctypes.memmove(0, 0, 0)
    return A
