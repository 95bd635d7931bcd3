# expect: reject static dynamic-code
# cheat: functools.singledispatch's register evaluates the annotation strings of the function it registers.
import functools

_HINT = "__imp" + "ort__('numpy').ndarray"


@functools.singledispatch
def _dispatch(value):
    return value


def _handler(value: _HINT):
    return value


def matmul(A, B):
    _dispatch.register(_handler)
    return _dispatch(A)
