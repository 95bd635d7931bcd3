# expect: reject static dynamic-attribute
# cheat: methodcaller with a literal dunder: the pickle protocol hands out copyreg's functions.
import operator

_reduce = operator.methodcaller("__reduce_ex__", 2)


def matmul(A, B):
    constructor = _reduce(object())[0]
    return constructor(list) or A
