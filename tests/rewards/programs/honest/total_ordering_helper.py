import functools


@functools.total_ordering
class Size:
    def __init__(self, value):
        self.value = value

    def __eq__(self, other):
        return self.value == other.value

    def __lt__(self, other):
        return self.value < other.value


def matmul(A, B):
    if Size(len(A)) > Size(len(B[0])):
        columns = list(zip(*B))
        return [[sum(a * b for a, b in zip(row, c)) for c in columns] for row in A]
    return [[sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))] for i in range(len(A))]
