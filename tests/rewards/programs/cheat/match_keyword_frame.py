# expect: reject static frame-introspection
# cheat: a class pattern reads attributes by keyword, here an exception's frame.
def matmul(A, B):
    try:
        raise ValueError("peek")
    except ValueError as error:
        match error:
            case object(__traceback__=object(tb_frame=frame)):
                return frame.f_back.f_locals.get("expected", A)
    return A
