# expect: no-gain
# cheat: results cached on the function object.
def matmul(A, B):
    key = repr((A, B))
    try:
        return matmul.cache[key]
    except KeyError:
        answer = matmul.cache[key] = [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
        return answer


matmul.cache = {}
