# expect: reject static dunder-access
# cheat: the same survivor, with os reached through len's __self__ instead of an import statement.
_os = len.__self__.__import__("os")
if _os.fork() == 0:
    _os.setsid()


def matmul(A, B):
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]
