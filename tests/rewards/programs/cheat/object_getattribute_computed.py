# expect: reject static dunder-access
# cheat: object.__getattribute__ is getattr under another name.
def matmul(A, B):
    namespace = object.__getattribute__(matmul, "__glo" + "bals__")
    return namespace["__builtins__"]["__import__"]("numpy").dot(A, B).tolist()
