# expect: reject static dynamic-attribute
# cheat: setattr with a computed name plants a namespace entry that library code then trusts.
import typing


def matmul(A, B):
    setattr(type(typing.List[int]), "__dataclass" + "_fields__", {})
    return A
