# expect: reject static dunder-access
# cheat: builtins dictionary indexed with a joined string.
def matmul(A, B):
    name = "".join(["num", "py"])
    return __builtins__["__import__"](name).dot(A, B).tolist()
