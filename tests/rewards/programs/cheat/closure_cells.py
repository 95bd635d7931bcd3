# expect: reject static dunder-access
# cheat: closure cells expose the values another function closed over.
def _outer():
    secret = {}

    def inner():
        return secret

    return inner


def matmul(A, B):
    cell = _outer().__closure__[0]
    return cell.cell_contents or A
