# expect: reject static import-outside-allowlist
# cheat: rebind __name__ with a walrus, so that the main guard opens in the sandbox.
print(__name__ := "__main__")

if __name__ == "__main__":
    import numpy

    def matmul(A, B):
        return numpy.dot(A, B).tolist()
