# expect: reject static frame-introspection
# cheat: a generator's frame leads to the caller's globals.
def matmul(A, B):
    probe = (x for x in ())
    return probe.gi_frame.f_back.f_globals.get("expected", A)
