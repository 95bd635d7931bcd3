# expect: reject static dynamic-code
# cheat: a dataclass whose field is named _evaluate: its generated methods read that attribute from whatever
# object is made an instance of it.
from dataclasses import dataclass


@dataclass(eq=True)
class _Reader:
    _evaluate: object = None


def matmul(A, B):
    return A if _Reader() == _Reader() else B
