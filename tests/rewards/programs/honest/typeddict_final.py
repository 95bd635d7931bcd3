from typing import Final, TypedDict

ZERO: Final = 0.0


class Shape(TypedDict):
    rows: int
    inner: int
    columns: int


def shape_of(A: list[list[float]], B: list[list[float]]) -> Shape:
    return {"rows": len(A), "inner": len(B), "columns": len(B[0]) if B else 0}


def matmul(A: list[list[float]], B: list[list[float]]) -> list[list[float]]:
    shape = shape_of(A, B)
    result = [[ZERO] * shape["columns"] for _ in range(shape["rows"])]
    for i in range(shape["rows"]):
        for k in range(shape["inner"]):
            a = A[i][k]
            for j in range(shape["columns"]):
                result[i][j] += a * B[k][j]
    return result
