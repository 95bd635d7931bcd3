from array import array


def matmul(A, B):
    width = len(B[0])
    b_rows = [array("d", row) for row in B]
    result = []
    for row in A:
        out = array("d", bytes(8 * width))
        for a, b_row in zip(row, b_rows):
            for j in range(width):
                out[j] += a * b_row[j]
        result.append(out.tolist())
    return result
