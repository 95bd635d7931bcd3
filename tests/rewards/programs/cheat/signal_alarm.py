# expect: reject static import-outside-allowlist
# cheat: ignore the harness's termination signal.
import signal

signal.signal(signal.SIGTERM, signal.SIG_IGN)


def matmul(A, B):
    return A
