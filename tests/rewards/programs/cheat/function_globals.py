# expect: reject static dunder-access
# cheat: a function's __globals__ is the module namespace, builtins and all.
def matmul(A, B):
    builtins = matmul.__globals__["__builtins__"]
    return builtins["__import__"]("numpy").dot(A, B).tolist()
