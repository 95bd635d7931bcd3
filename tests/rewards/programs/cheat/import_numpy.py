# expect: reject static import-outside-allowlist
# cheat: numpy does the work in C.
import numpy as np


def matmul(A, B):
    return (np.array(A) @ np.array(B)).tolist()
