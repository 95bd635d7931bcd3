# expect: reject static frame-introspection
# cheat: a generator's code object can be edited and turned back into a function with other globals.
def _template():
    yield 1


def matmul(A, B):
    code = _template().gi_code.replace(co_consts=(None, 2))
    return code and A
