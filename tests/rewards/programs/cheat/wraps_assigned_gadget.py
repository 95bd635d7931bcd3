# expect: reject static dynamic-attribute
# cheat: functools.wraps reads the attributes named by `assigned`, names that can be built at run time.
import functools


class _Box:
    pass


_box = functools.wraps(print, assigned=("__se" + "lf__",), updated=())(_Box())


def matmul(A, B):
    return A
