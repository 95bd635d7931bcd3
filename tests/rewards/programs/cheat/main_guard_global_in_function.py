# expect: reject static import-outside-allowlist
# cheat: rebind the module's __name__ from inside a function, through a global declaration.
def _open_the_guard():
    global __name__
    __name__ = "__main__"


_open_the_guard()

if __name__ == "__main__":
    import numpy

    def matmul(A, B):
        return numpy.dot(A, B).tolist()
