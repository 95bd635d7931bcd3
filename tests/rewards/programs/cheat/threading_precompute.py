# expect: reject static import-outside-allowlist
# cheat: a background thread keeps working outside the timed call.
import threading


def matmul(A, B):
    worker = threading.Thread(target=lambda: None)
    worker.start()
    return A
