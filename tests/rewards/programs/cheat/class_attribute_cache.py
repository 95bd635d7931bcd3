# expect: no-gain
# cheat: a class attribute dictionary shared by every call.
class _Memo:
    table = {}


def matmul(A, B):
    key = repr((A, B))
    if key not in _Memo.table:
        columns = list(zip(*B))
        _Memo.table[key] = [[sum(x * y for x, y in zip(row, c)) for c in columns] for row in A]
    return _Memo.table[key]
