# expect: reject static frame-introspection
# cheat: a coroutine's frame.
async def _pause():
    return 1


def matmul(A, B):
    coroutine = _pause()
    frame = coroutine.cr_frame
    coroutine.close()
    return frame.f_globals.get("expected", A)
