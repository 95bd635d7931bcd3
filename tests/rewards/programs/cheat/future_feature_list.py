# expect: no-gain
# cheat: a list that lives in an allowed module keeps results between calls.
import __future__


def matmul(A, B):
    notes = __future__.all_feature_names
    for entry in notes:
        if isinstance(entry, tuple) and entry[0] == repr((A, B)):
            return entry[1]
    result = [[sum(x * y for x, y in zip(row, c)) for c in zip(*B)] for row in A]
    notes.append((repr((A, B)), result))
    return result
