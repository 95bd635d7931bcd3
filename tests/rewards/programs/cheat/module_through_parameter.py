# expect: reject static module-attribute-outside-api
# cheat: hand the module to a helper, whose parameter the attribute check cannot follow.
import typing


def _grab(module):
    return module.sys.modules["numpy"]


def matmul(A, B):
    return _grab(typing).dot(A, B).tolist()
