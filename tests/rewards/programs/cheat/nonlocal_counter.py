# expect: global-statement
# cheat: a closure counter updated through nonlocal.
def _counter():
    count = 0

    def bump():
        nonlocal count
        count += 1
        return count

    return bump


def matmul(A, B):
    return A
