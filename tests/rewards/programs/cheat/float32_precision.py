# expect: reject runtime incorrect
# cheat: single precision is faster in some worlds; the answers are then wrong beyond the tolerance.
from array import array


def matmul(A, B):
    columns = [array("f", column) for column in zip(*B)]
    rows = [array("f", row) for row in A]
    return [[float(array("f", [sum(a * b for a, b in zip(row, column))])[0]) for column in columns] for row in rows]
