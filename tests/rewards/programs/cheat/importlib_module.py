# expect: reject static import-outside-allowlist
# cheat: importlib loads numpy by name.
import importlib


def matmul(A, B):
    np = importlib.import_module("numpy")
    return np.dot(A, B).tolist()
