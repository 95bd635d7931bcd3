# expect: no-gain
# cheat: spend the untimed import building tables of products, hoping calls can look answers up; the inputs are
# fresh random floats, so no table ever hits.
_PRODUCTS = {}
for _i in range(-50, 51):
    for _j in range(-50, 51):
        _PRODUCTS[(_i / 50.0, _j / 50.0)] = (_i / 50.0) * (_j / 50.0)


def matmul(A, B):
    result = []
    for i in range(len(A)):
        row = []
        for j in range(len(B[0])):
            total = 0.0
            for k in range(len(B)):
                product = _PRODUCTS.get((A[i][k], B[k][j]))
                total += A[i][k] * B[k][j] if product is None else product
            row.append(total)
        result.append(row)
    return result
