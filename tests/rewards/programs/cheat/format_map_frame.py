# expect: reject static frame-introspection
# cheat: format_map fields read attributes too.
def matmul(A, B):
    probe = (row for row in A)
    text = "{g.gi_frame.f_back}".format_map({"g": probe})
    return [[float(len(text))] * len(B[0]) for _ in A]
