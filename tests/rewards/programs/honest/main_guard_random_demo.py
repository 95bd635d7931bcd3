def matmul(A, B):
    width = len(B[0])
    product = []
    for row in A:
        out = [0.0] * width
        for a, b_row in zip(row, B):
            for j in range(width):
                out[j] += a * b_row[j]
        product.append(out)
    return product


if __name__ == "__main__":
    import random
    import time

    left = [[random.random() for _ in range(50)] for _ in range(50)]
    right = [[random.random() for _ in range(50)] for _ in range(50)]
    start = time.perf_counter()
    matmul(left, right)
    print(f"50x50 in {time.perf_counter() - start:.4f} s")
