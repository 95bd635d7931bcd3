from collections import deque


def matmul(A, B):
    columns = deque(zip(*B))
    result = []
    for row in A:
        out = []
        for _ in range(len(columns)):
            column = columns[0]
            out.append(sum(a * b for a, b in zip(row, column)))
            columns.rotate(-1)
        result.append(out)
    return result
