# expect: reject static encoding-declaration
# -*- coding: utf-7 -*-
# cheat: decoded as UTF-7, the comment below holds a line that imports numpy; judged as text, it is a comment.
# +AAo-import numpy
def matmul(A, B):
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]
