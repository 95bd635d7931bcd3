# expect: reject runtime
# cheat: grow without bound, to take the judge's machine down with it.
def matmul(A, B):
    hog = []
    while True:
        hog.append(bytearray(1 << 24))
