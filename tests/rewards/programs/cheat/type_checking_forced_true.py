# expect: reject static import-outside-allowlist
# cheat: set typing.TYPE_CHECKING, so that the block meant for type checkers runs.
import typing

typing.TYPE_CHECKING = True

if typing.TYPE_CHECKING:
    import numpy

    def matmul(A, B):
        return numpy.dot(A, B).tolist()
