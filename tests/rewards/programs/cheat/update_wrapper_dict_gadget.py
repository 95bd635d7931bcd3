# expect: reject static dynamic-attribute
# cheat: update_wrapper calls wrapper.__dict__.update(wrapped.__dict__); a wrapper whose __dict__ is a
# spy receives any object's namespace, here object's, with __getattribute__ in it.
import functools


class _Spy:
    def __init__(self):
        self.seen = []

    def update(self, namespace):
        self.seen.append(namespace)


class _Wrapper:
    __slots__ = ()
    spy = _Spy()

    def __getattr__(self, name):
        return _Wrapper.spy


functools.update_wrapper(_Wrapper(), object, assigned=())
_read = _Wrapper.spy.seen[0]["__getattr" + "ibute__"]


def matmul(A, B):
    namespace = _read(matmul, "__glo" + "bals__")
    return namespace["__builtins__"]["__import__"]("numpy").dot(A, B).tolist()
