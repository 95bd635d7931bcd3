# expect: reject static dunder-access
# cheat: Python folds full-width letters in identifiers (NFKC), so this is __import__.
def matmul(A, B):
    numpy = __ｉｍｐｏｒｔ__("numpy")
    return numpy.dot(A, B).tolist()
