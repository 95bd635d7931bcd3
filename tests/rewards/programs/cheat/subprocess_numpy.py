# expect: reject static import-outside-allowlist
# cheat: hand the work to another process.
import subprocess


def matmul(A, B):
    output = subprocess.check_output(["python3", "-c", "print(1)"])
    return [[float(output)]]
