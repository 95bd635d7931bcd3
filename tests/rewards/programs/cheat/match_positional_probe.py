# expect: reject static dynamic-attribute
# cheat: a metaclass that claims every object, and __match_args__ computed at run time: `case _Probe(x)` reads
# whatever attribute the string names, on any subject.
class _ClaimsAll(type):
    def __instancecheck__(cls, instance):
        return True


class _Probe(metaclass=_ClaimsAll):
    __match_args__ = ("gi" + "_frame",)


def matmul(A, B):
    match (row for row in A):
        case _Probe(frame):
            return frame.f_back.f_locals.get("expected", A)
    return A
