# expect: reject static dynamic-attribute
# cheat: a cached_property in a class built by type() gets its attribute name from a computed key.
import functools

_Spy = type("Spy", (), {"__ar" + "gs__": functools.cached_property(lambda self: None)})


def matmul(A, B):
    return A if _Spy else B
