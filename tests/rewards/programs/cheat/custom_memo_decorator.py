# expect: no-gain
# cheat: a home-made memoising decorator.
def _memo(function):
    table = {}

    def wrapper(A, B):
        key = repr((A, B))
        if key not in table:
            table[key] = function(A, B)
        return table[key]

    return wrapper


@_memo
def matmul(A, B):
    return [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
