# expect: reject static import-outside-allowlist
# cheat: a pickle payload executes arbitrary calls when loaded.
import pickle

PAYLOAD = b"\x80\x04\x95\x1d\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x05print\x94\x93\x94."


def matmul(A, B):
    pickle.loads(PAYLOAD)
    return A
