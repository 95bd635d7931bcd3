class Options:
    block = 4


def matmul(A, B, options=Options()):
    block = getattr(options, "block", 4)
    inner, width = len(B), len(B[0])
    result = []
    for row in A:
        out = [0.0] * width
        for start in range(0, inner, block):
            for k in range(start, min(start + block, inner)):
                a, b_row = row[k], B[k]
                for j in range(width):
                    out[j] += a * b_row[j]
        result.append(out)
    return result
