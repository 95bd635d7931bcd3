# expect: reject runtime
# cheat: pretend the user pressed Ctrl-C.
def matmul(A, B):
    raise KeyboardInterrupt
