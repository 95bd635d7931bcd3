# expect: reject runtime incorrect
# cheat: a reply of four million empty rows, just under the reply limit, and cheap to send: the parent's
# reading of it (each row a Python list, each checked) stalled and swelled the trainer for seconds.
def matmul(A, B):
    return [[]] * 3_900_000
