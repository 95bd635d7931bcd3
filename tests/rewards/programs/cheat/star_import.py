# expect: module-attribute-outside-api
# cheat: a star import binds names the analysis cannot see.
from typing import *


def matmul(A, B):
    return A
