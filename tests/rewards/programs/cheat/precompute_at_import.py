# expect: no-gain
# cheat: spend the untimed import building tables of products, hoping calls can look answers up; the inputs are
# fresh random floats, so no table ever hits.
_PRODUCTS = {}
for _i in range(-50, 51):
    for _j in range(-50, 51):
        _PRODUCTS[(_i / 50.0, _j / 50.0)] = (_i / 50.0) * (_j / 50.0)


def matmul(A, B):
    columns = list(zip(*B))
    result = []
    for a_row in A:
        out = []
        for column in columns:
            total = 0.0
            for a, b in zip(a_row, column):
                product = _PRODUCTS.get((a, b))
                total += a * b if product is None else product
            out.append(total)
        result.append(out)
    return result
