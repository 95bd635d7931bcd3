# expect: reject static frame-introspection
# cheat: vars of a class holds object.__getattribute__, which reads attributes named at run time.
def matmul(A, B):
    read = vars(object)["__getattr" + "ibute__"]
    namespace = read(matmul, "__glo" + "bals__")
    return namespace["__builtins__"]["__import__"]("numpy").dot(A, B).tolist()
