# expect: reject static import-outside-allowlist
# cheat: marshal turns bytes into a code object.
import marshal


def matmul(A, B):
    code = marshal.loads(b"\xe3\x00")
    return code
