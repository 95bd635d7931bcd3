# expect: reject static frame-introspection
# cheat: a comprehension variable named vars, hoping the analysis thinks vars is local to the function;
# it is local to the comprehension only, so the call below is the builtin.
def matmul(A, B):
    [0 for vars in ()]
    return vars().get("expected", A)
