# expect: reject static dunder-access
# cheat: the builtins module is print's __self__; through it, sys (to silence audit hooks), then numpy.
_builtins = print.__self__
_sys = _builtins.__import__("sys")
_sys.audit = lambda *args: None
numpy = _builtins.__import__("numpy")


def matmul(A, B):
    return numpy.dot(A, B).tolist()
