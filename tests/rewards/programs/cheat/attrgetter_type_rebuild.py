# expect: reject static dynamic-attribute
# cheat: an attrgetter with a harmless literal, whose type then builds a second one with a computed name.
import operator

_Getter = type(operator.attrgetter("real"))
_globals_of = _Getter("__glo" + "bals__")


def matmul(A, B):
    namespace = _globals_of(matmul)
    return namespace["__builtins__"]["__import__"]("numpy").dot(A, B).tolist()
