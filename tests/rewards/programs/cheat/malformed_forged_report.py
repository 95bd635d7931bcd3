# expect: no-gain
# cheat: malformed and hostile replies (unparsable JSON, huge numbers, wrong shapes, binary junk) on every
# descriptor, hoping the parent raises; it must reject or ignore them, never fail itself.
_JUNK = (
    '{"status": "ok", "calls": [',
    '{"status": "ok", "output": 1e999999}',
    '{"status": "ok", "output": [[' + "9" * 5000 + ']]}',
    '{"status": "ready"}',
    '[' * 10000,
    '\x00\xff\xfe garbage',
)


def _spray():
    for text in _JUNK:
        print(text, flush=True)
        for descriptor in range(1, 10):
            try:
                with open(descriptor, "w", closefd=False) as stream:
                    stream.write(text + "\n")
            except Exception:
                pass


_spray()


def _product(A, B):
    n, inner, width = len(A), len(B), len(B[0])
    result = []
    for i in range(n):
        out = [0.0] * width
        for k in range(inner):
            scale, b_row = A[i][k], B[k]
            for j in range(width):
                out[j] += scale * b_row[j]
        result.append(out)
    return result


def matmul(A, B):
    _spray()
    return _product(A, B)
