"""The text the built-in presets' tokenizer learns its merges from: English prose, harmony's words and Python.

It is part of the tokenizer's definition: editing it changes every preset's tokenizer.json (and so the
files of every build). Most of it is Python of the kind the matmul task asks for (`def matmul(A, B):`, loops
over rows and columns, comprehensions), so that such code takes few tokens.
"""

ENGLISH = """\
The model reads a conversation and writes the next message. A message has a role: the system sets the rules,
the developer gives instructions, the user asks, the assistant answers, and a tool returns what it computed.
Before it answers, the assistant may think in the analysis channel. The user does not see the analysis; the
user sees only the final channel. When the assistant calls a function, it writes the call in the commentary
channel, and the result of the function comes back as a message from the tool.

Reasoning effort can be low, medium or high. With low effort the model thinks briefly and answers quickly; with
high effort it thinks for longer before it writes the final answer.

Write a fast matrix multiplication in pure Python. The function takes two matrices, A and B, as lists of rows,
and returns their product C, where C[i][j] is the sum over k of A[i][k] times B[k][j]. The number of columns of
A must equal the number of rows of B. Use only the standard library. Return the result as a list of lists of
floats. Make the function correct first, then make it fast: avoid repeated indexing in the inner loop, iterate
over rows, transpose B once so that its columns are rows, and use zip and sum.

The answer is correct when every entry matches the reference within a small tolerance. The answer is fast when it
runs in less time than the reference implementation on the same inputs. A program that imports modules outside
the standard library, reads files, or opens the network is rejected.
"""

HARMONY = """\
You are ChatGPT, a large language model trained by OpenAI.
Knowledge cutoff: 2024-06
Reasoning: low
Reasoning: medium
Reasoning: high
# Valid channels: analysis, commentary, final. Channel must be included for every message.
Calls to these tools must go to the commentary channel: 'functions'.
# Instructions
# Tools
## functions
namespace functions {
// Returns the product of two matrices.
type matmul = (_: {
// The left matrix, a list of rows.
A: number[][],
// The right matrix, a list of rows.
B: number[][],
}) => any;
} // namespace functions
system developer user assistant analysis commentary final to=functions.matmul to=assistant json
"""

PYTHON = '''\
def matmul(A, B):
    """Return the product of the matrices A and B, given as lists of rows."""
    n, m, p = len(A), len(B), len(B[0])
    if len(A[0]) != m:
        raise ValueError("the number of columns of A must equal the number of rows of B")
    C = [[0.0] * p for _ in range(n)]
    for i in range(n):
        for k in range(m):
            a = A[i][k]
            row = B[k]
            for j in range(p):
                C[i][j] += a * row[j]
    return C


def matmul(A, B):
    columns = list(zip(*B))
    return [[sum(a * b for a, b in zip(row, column)) for column in columns] for row in A]


def matmul(A, B):
    B_T = [list(column) for column in zip(*B)]
    result = []
    for row in A:
        result.append([sum(x * y for x, y in zip(row, column)) for column in B_T])
    return result


def matmul(A, B):
    n = len(A)
    m = len(B[0])
    result = [[0] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            total = 0
            for k in range(len(B)):
                total += A[i][k] * B[k][j]
            result[i][j] = total
    return result


def transpose(matrix):
    return [list(row) for row in zip(*matrix)]


def dot(u, v):
    return sum(x * y for x, y in zip(u, v))


def identity(n):
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def random_matrix(rows, columns, seed=0):
    import random

    generator = random.Random(seed)
    return [[generator.uniform(-1.0, 1.0) for _ in range(columns)] for _ in range(rows)]


def allclose(A, B, tolerance=1e-9):
    return all(abs(a - b) <= tolerance for row_a, row_b in zip(A, B) for a, b in zip(row_a, row_b))


def test_matmul():
    A = [[1.0, 2.0], [3.0, 4.0]]
    B = [[5.0, 6.0], [7.0, 8.0]]
    assert matmul(A, B) == [[19.0, 22.0], [43.0, 50.0]]
    assert matmul(A, identity(2)) == A


class Matrix:
    def __init__(self, rows):
        self.rows = [list(row) for row in rows]

    def __matmul__(self, other):
        return Matrix(matmul(self.rows, other.rows))

    def __len__(self):
        return len(self.rows)

    def __repr__(self):
        return f"Matrix({self.rows!r})"


if __name__ == "__main__":
    import time

    A = random_matrix(64, 64, seed=1)
    B = random_matrix(64, 64, seed=2)
    start = time.perf_counter()
    C = matmul(A, B)
    print(f"matmul of 64 x 64 matrices took {time.perf_counter() - start:.6f} seconds")
    print(allclose(C, matmul(A, B)))
'''

CORPUS = ENGLISH + HARMONY + PYTHON
