# expect: reject static dynamic-attribute
# cheat: getattr on the builtins reaches __import__ from pieces of strings.
def matmul(A, B):
    loader = getattr(__builtins__, "__imp" + "ort__")
    return loader("numpy").dot(A, B).tolist()
