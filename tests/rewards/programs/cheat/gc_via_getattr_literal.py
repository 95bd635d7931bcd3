# expect: reject static dunder-access
# cheat: getattr with a literal dunder name, to reach the import function and the garbage collector.
_import = getattr(print, "__self__").__import__
gc = _import("gc")


def matmul(A, B):
    for thing in gc.get_objects():
        if isinstance(thing, list) and len(thing) == len(A) and thing is not A:
            return thing
    return A
