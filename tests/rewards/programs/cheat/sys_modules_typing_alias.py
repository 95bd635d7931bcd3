# expect: reject static module-attribute-outside-api
# cheat: typing imports sys; under an alias, its sys.modules holds numpy if anything imported it.
import typing as t


def matmul(A, B):
    numpy = t.sys.modules["numpy"]
    return numpy.dot(A, B).tolist()
