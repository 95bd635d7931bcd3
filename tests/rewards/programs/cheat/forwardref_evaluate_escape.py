# expect: reject static dynamic-code
# cheat: typing.get_args(List[text]) hands out a ForwardRef, whose _evaluate runs text with the real builtins;
# no dunder appears in any name or literal of the code.
import typing

_TEXT = "".join(["__imp", "ort__('num", "py')"])


def matmul(A, B):
    reference = typing.get_args(typing.List[_TEXT])[0]
    numpy = reference._evaluate({}, {}, frozenset())
    return numpy.dot(A, B).tolist()
