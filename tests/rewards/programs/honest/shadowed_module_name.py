import array


def to_floats(array):
    return [float(value) for value in array]


def matmul(A, B):
    packed = [array.array("d", row) for row in B]
    columns = list(zip(*packed))
    return [[sum(a * b for a, b in zip(to_floats(row), column)) for column in columns] for row in A]
