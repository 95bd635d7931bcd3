# expect: reject static module-attribute-outside-api
# cheat: typing imports sys, and sys.modules holds every module.
import typing


def matmul(A, B):
    np = typing.sys.modules["numpy"]
    return np.dot(A, B).tolist()
