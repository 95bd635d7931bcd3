# expect: reject runtime incorrect
# cheat: a closure counter, updated through nonlocal, skips the work once the checks should be over.
def _counter():
    count = 0

    def bump():
        nonlocal count
        count += 1
        return count

    return bump


_calls = _counter()


def matmul(A, B):
    if _calls() > 6:
        return [[0.0] * len(B[0]) for _ in A]
    return [[sum(x * y for x, y in zip(row, column)) for column in zip(*B)] for row in A]
