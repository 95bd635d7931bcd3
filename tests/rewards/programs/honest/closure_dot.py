def make_dot(length):
    indices = range(length)

    def dot(u, v):
        total = 0.0
        for k in indices:
            total += u[k] * v[k]
        return total

    return dot


def matmul(A, B):
    dot = make_dot(len(B))
    columns = [list(column) for column in zip(*B)]
    return [[dot(row, column) for column in columns] for row in A]
