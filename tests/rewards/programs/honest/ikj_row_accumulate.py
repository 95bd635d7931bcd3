def matmul(A, B):
    width = len(B[0])
    result = []
    for row in A:
        accumulator = [0.0] * width
        for a, b_row in zip(row, B):
            if a:
                for j, b in enumerate(b_row):
                    accumulator[j] += a * b
        result.append(accumulator)
    return result
