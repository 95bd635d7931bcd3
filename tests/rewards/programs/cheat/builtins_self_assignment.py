# expect: reject static dunder-access
# cheat: bind __builtins__ at module level so that later reads look like reads of a module variable.
__builtins__ = __builtins__


def matmul(A, B):
    return __builtins__["__imp" + "ort__"]("numpy").dot(A, B).tolist()
