# expect: reject static dynamic-attribute
# cheat: getattr under another name, then called with a name built at run time.
fetch = getattr


def matmul(A, B):
    namespace = fetch(matmul, "__glo" + "bals__")
    return namespace["__builtins__"]["__import__"]("numpy").dot(A, B).tolist()
