# expect: reject static frame-introspection
# cheat: an async generator's frame, the same way to the caller.
async def _ticks():
    yield 1


def matmul(A, B):
    frame = _ticks().ag_frame
    return frame.f_back and A
