import array


def matmul(A, B):
    p = len(B[0]) if B else 0
    flat_b = array.array("d", (value for row in B for value in row))
    result = []
    for row in A:
        out = array.array("d", [0.0]) * p
        for k, a in enumerate(row):
            offset = k * p
            for j in range(p):
                out[j] += a * flat_b[offset + j]
        result.append(list(out))
    return result
