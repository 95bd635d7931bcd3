# expect: reject static module-attribute-outside-api
# cheat: dataclasses imports sys as well.
import dataclasses


def matmul(A, B):
    numpy = dataclasses.sys.modules["numpy"]
    return numpy.dot(A, B).tolist()
