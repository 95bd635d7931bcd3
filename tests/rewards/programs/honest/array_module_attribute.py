import array


def matmul(A, B):
    width = len(B[0])
    rows_of_b = [array.array("d", row) for row in B]
    result = []
    for row in A:
        out = array.array("d", [0.0] * width)
        for a, b_row in zip(row, rows_of_b):
            for j in range(width):
                out[j] += a * b_row[j]
        result.append(out.tolist())
    return result
