# expect: reject static import-outside-allowlist
# cheat: search the garbage collector's objects for the expected answer.
import gc


def matmul(A, B):
    for thing in gc.get_objects():
        if isinstance(thing, list) and len(thing) == len(A) and thing is not A:
            return thing
    return A
