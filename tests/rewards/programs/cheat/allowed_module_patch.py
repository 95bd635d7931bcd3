# expect: no-gain
# cheat: replace a function of an allowed module for everyone in the process.
import math

math.fsum = lambda values: 0.0


def matmul(A, B):
    return [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
