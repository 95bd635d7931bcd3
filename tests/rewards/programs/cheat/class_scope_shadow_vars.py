# expect: reject static frame-introspection
# cheat: a class body binds vars, which does not make vars local to the function around it.
def matmul(A, B):
    class _Hide:
        vars = None

    return vars().get("expected", A) if _Hide else A
