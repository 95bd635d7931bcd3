# expect: reject static dynamic-attribute
# cheat: attrgetter follows a dotted path, here from a generator to the harness's globals.
import operator

_harness = operator.attrgetter("gi_frame.f_back.f_globals")


def matmul(A, B):
    probe = (row for row in A)
    return _harness(probe).get("expected", A)
