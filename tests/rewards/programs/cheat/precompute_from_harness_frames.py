# expect: reject static frame-introspection
# cheat: during the first (unscored) call, read every future input from the harness frame, compute all the
# answers untimed, and return them one by one afterwards.
_answers = []


def _future_inputs():
    frame = (row for row in ()).gi_frame
    while frame is not None:
        calls = frame.f_locals.get("calls")
        if calls:
            return calls
        frame = frame.f_back
    return []


def _naive(A, B):
    return [[sum(a * b for a, b in zip(row, column)) for column in zip(*B)] for row in A]


def matmul(A, B):
    if not _answers:
        _answers.extend(_naive(*arguments) for arguments in _future_inputs())
    return _answers.pop(0) if _answers else _naive(A, B)
