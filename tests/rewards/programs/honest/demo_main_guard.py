def matmul(A, B):
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]


if __name__ == "__main__":
    left = [[1.0, 2.0], [3.0, 4.0]]
    right = [[5.0, 6.0], [7.0, 8.0]]
    print(matmul(left, right))
