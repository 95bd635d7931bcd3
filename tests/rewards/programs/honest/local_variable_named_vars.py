def matmul(A, B):
    vars = list(zip(*B))
    compile = []
    for row in A:
        compile.append([sum(a * b for a, b in zip(row, column)) for column in vars])
    return compile
