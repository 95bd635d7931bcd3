# expect: reject static frame-introspection
# cheat: a format field walks from a running generator to the harness frame and renders its variables,
# future inputs included.
def _spy():
    yield "{0.gi_frame.f_back.f_back.f_locals}".format(_probe)


_probe = _spy()


def matmul(A, B):
    harness = next(_probe, "")
    if "expected" in harness:
        return A
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]
