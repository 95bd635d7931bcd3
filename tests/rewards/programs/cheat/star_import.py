# expect: reject static dynamic-code
# cheat: a star import binds names the import line does not show, get_type_hints among them.
from typing import *


class _Probe:
    hook: "__import__('numpy')"


def matmul(A, B):
    numpy = get_type_hints(_Probe)["hook"]
    return numpy.dot(A, B).tolist()
