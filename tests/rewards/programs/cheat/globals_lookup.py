# expect: reject static frame-introspection
# cheat: look for the expected answer among the globals.
def matmul(A, B):
    for value in globals().values():
        if isinstance(value, list) and value and value is not A:
            return value
    return A
