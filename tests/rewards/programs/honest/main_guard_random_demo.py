def matmul(A, B):
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]


if __name__ == "__main__":
    import random
    import time

    left = [[random.random() for _ in range(50)] for _ in range(50)]
    right = [[random.random() for _ in range(50)] for _ in range(50)]
    start = time.perf_counter()
    matmul(left, right)
    print(f"50x50 in {time.perf_counter() - start:.4f} s")
