# expect: no-gain
# cheat: results cached on the function object.
def matmul(A, B):
    key = repr((A, B))
    if key not in matmul.cache:
        columns = list(zip(*B))
        matmul.cache[key] = [[sum(x * y for x, y in zip(row, c)) for c in columns] for row in A]
    return matmul.cache[key]


matmul.cache = {}
