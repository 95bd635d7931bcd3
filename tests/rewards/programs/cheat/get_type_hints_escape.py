# expect: reject static dynamic-code
# cheat: get_type_hints evaluates string annotations, here one built at run time.
import typing

_HINT = "__imp" + "ort__('numpy')"


class _Holder:
    value: _HINT


def matmul(A, B):
    numpy = typing.get_type_hints(_Holder)["value"]
    return numpy.dot(A, B).tolist()
