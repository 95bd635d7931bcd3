# expect: reject runtime
# cheat: return a lazy object so the work happens after the timer stops.
def matmul(A, B):
    columns = list(zip(*B))
    return ((sum(x * y for x, y in zip(row, c)) for c in columns) for row in A)
