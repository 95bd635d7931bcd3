"""Two columns per pass: pack columns j and j+1 of B as one complex column, so that each dot product with a
real row yields both entries at once (real part, imaginary part)."""
import operator


def matmul(A, B):
    p = len(B[0])
    columns = list(zip(*B))
    packed = [[complex(x, y) for x, y in zip(columns[j], columns[j + 1])] for j in range(0, p - 1, 2)]
    last = columns[-1] if p % 2 else None
    result = []
    for row in A:
        out = []
        for column in packed:
            both = sum(map(operator.mul, row, column))
            out.append(both.real)
            out.append(both.imag)
        if last is not None:
            out.append(sum(map(operator.mul, row, last)))
        result.append(out)
    return result
