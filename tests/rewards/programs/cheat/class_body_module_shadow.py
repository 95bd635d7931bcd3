# expect: reject static module-attribute-outside-api
# cheat: a class body reads a name before binding it, so the read sees the module, not the later binding.
import typing as t


class _Reach:
    modules = t.sys.modules
    t = None


def matmul(A, B):
    return _Reach.modules["numpy"].dot(A, B).tolist()
