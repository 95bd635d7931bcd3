def matmul(A, B):
    width = len(B[0])
    result = []
    steps = 0

    def accumulate(out, a, b_row):
        nonlocal steps
        for j in range(width):
            out[j] += a * b_row[j]
        steps += 1

    for row in A:
        out = [0.0] * width
        for a, b_row in zip(row, B):
            accumulate(out, a, b_row)
        result.append(out)
    assert steps == len(A) * len(B)
    return result
