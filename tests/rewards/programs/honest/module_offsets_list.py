OFFSETS = [0, 1, 2, 3]
"""Unrolled positions of the inner loop (read only)."""


def matmul(A, B):
    inner, width = len(B), len(B[0])
    result = []
    for row in A:
        out = [0.0] * width
        k = 0
        while k + len(OFFSETS) <= inner:
            values = [(row[k + offset], B[k + offset]) for offset in OFFSETS]
            for j in range(width):
                out[j] += sum(a * b_row[j] for a, b_row in values)
            k += len(OFFSETS)
        for rest in range(k, inner):
            a, b_row = row[rest], B[rest]
            for j in range(width):
                out[j] += a * b_row[j]
        result.append(out)
    return result
