class Multiplier:
    def __init__(self, A, B):
        self._A, self._B = A, B

    @property
    def shape(self):
        return len(self._A), len(self._B[0])

    @staticmethod
    def dot(row, column):
        total = 0.0
        for a, b in zip(row, column):
            total += a * b
        return total

    def run(self):
        columns = list(zip(*self._B))
        n, p = self.shape
        return [[self.dot(self._A[i], columns[j]) for j in range(p)] for i in range(n)]


def matmul(A, B):
    return Multiplier(A, B).run()
