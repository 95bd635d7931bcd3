# expect: no-gain
# cheat: write a forged "ok, one microsecond per call" reply wherever a harness may read replies, before any
# call and around each; the parent takes no timing or verdict from the child and checks every output.
_FORGED = '{"status": "ok", "output": [[0.0]], "seconds": 1e-06, "calls": [{"seconds": 1e-06, "output": [[0.0]]}]}'


def _forge():
    print(_FORGED, flush=True)
    for descriptor in range(1, 10):
        try:
            with open(descriptor, "w", closefd=False) as stream:
                stream.write(_FORGED + "\n")
        except Exception:
            pass


_forge()


def _product(A, B):
    width, inner = len(B[0]), len(B)
    return [[sum(row[k] * B[k][j] for k in range(inner)) for j in range(width)] for row in A]


def matmul(A, B):
    result = _product(A, B)
    _forge()
    return result
