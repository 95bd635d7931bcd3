# expect: reject static dunder-access
# cheat: climb from a tuple to object and list every class, loaders included.
def matmul(A, B):
    for klass in ().__class__.__base__.__subclasses__():
        if klass.__name__ == "BuiltinImporter":
            return klass.load_module("numpy").dot(A, B).tolist()
    return A
