# expect: reject static dynamic-code
# cheat: compile builds code objects out of strings.
CODE = "lambda A, B: __import__('numpy').dot(A, B).tolist()"


def matmul(A, B):
    return compile(CODE, "x", "eval")
