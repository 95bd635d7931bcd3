# expect: reject static dynamic-code
# cheat: exec runs an import hidden in a string.
def matmul(A, B):
    scope = {}
    exec("import numpy as np\nresult = np.dot(A, B).tolist()", {"A": A, "B": B}, scope)
    return scope["result"]
