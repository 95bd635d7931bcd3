# expect: module-state
# cheat: force the main guard open so its cache is created in the sandbox.
__name__ = "__main__"

if __name__ == "__main__":
    CACHE = {}


def matmul(A, B):
    return A
