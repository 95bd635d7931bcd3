# expect: reject static dynamic-attribute
# cheat: a template built at run time; the AttributeError of a missing field hands back the object reached,
# here the harness's globals, with the real builtins in them.
_FIELD = "{0." + ".".join(["gi" + "_frame", "f" + "_back", "f" + "_globals"]) + ".missing}"


def _reach(start):
    try:
        _FIELD.format(start)
    except AttributeError as error:
        return error.obj
    return None


def matmul(A, B):
    namespace = _reach(row for row in A)
    numpy = namespace["__builtins__"]["__import__"]("numpy")
    return numpy.dot(A, B).tolist()
