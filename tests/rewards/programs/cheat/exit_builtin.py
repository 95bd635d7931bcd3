# expect: reject runtime
# cheat: exit() from the site builtins, in case the harness lets the process end as if all went well.
def matmul(A, B):
    exit(0)
