# expect: reject static import-outside-allowlist
# cheat: force the main guard open, so that the imports under it would run in the sandbox.
__name__ = "__main__"

if __name__ == "__main__":
    import numpy

    def matmul(A, B):
        return numpy.dot(A, B).tolist()
