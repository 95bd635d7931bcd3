# expect: reject static import-outside-allowlist
# cheat: a TYPE_CHECKING of one's own, always true.
TYPE_CHECKING = True

if TYPE_CHECKING:
    import numpy

    def matmul(A, B):
        return numpy.dot(A, B).tolist()
