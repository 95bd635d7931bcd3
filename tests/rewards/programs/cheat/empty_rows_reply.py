# expect: reject runtime
# cheat: a reply of four million empty rows, just under the reply limit, and cheap to send: the parent's
# reading of it (each row a Python list, each checked) stalled and swelled the trainer for seconds. Rejected as
# incorrect, or, on a slow machine, at the CPU-time limit while building the reply: either way at run time.
def matmul(A, B):
    return [[]] * 3_900_000
