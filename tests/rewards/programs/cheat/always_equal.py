# expect: reject runtime
# cheat: a result that compares equal to anything.
class _Anything(list):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


def matmul(A, B):
    return _Anything()
