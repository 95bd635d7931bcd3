# expect: reject static frame-introspection
# cheat: reach the caller's frame through a traceback.
def matmul(A, B):
    try:
        raise ValueError
    except ValueError as error:
        frame = error.__traceback__.tb_frame
    return frame.f_back.f_locals.get("expected", A)
