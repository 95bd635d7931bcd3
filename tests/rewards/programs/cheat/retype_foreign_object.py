# expect: reject static dunder-access
# cheat: turn a typing object into an instance of a class of one's own, whose code then reads it freely.
import typing


class _Alias(type(typing.List[int])):
    def peek(self):
        return self.copy_with


_TEXT = "__imp" + "ort__('numpy')"
_alias = typing.List[_TEXT]
_alias.__class__ = _Alias


def matmul(A, B):
    return A if _alias.peek() else B
