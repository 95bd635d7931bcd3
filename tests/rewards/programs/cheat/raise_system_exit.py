# expect: reject runtime
# cheat: SystemExit skips the correctness check if the harness is careless.
def matmul(A, B):
    raise SystemExit(0)
