# expect: reject static dunder-access
# cheat: __import__ with a string built at run time.
def matmul(A, B):
    np = __import__("nu" + "mpy")
    return np.dot(A, B).tolist()
