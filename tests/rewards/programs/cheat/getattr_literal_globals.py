# expect: reject static dunder-access
# cheat: getattr with a literal name is checked like the attribute it names.
def matmul(A, B):
    namespace = getattr(matmul, "__globals__")
    return namespace["__builtins__"]["__import__"]("numpy").dot(A, B).tolist()
