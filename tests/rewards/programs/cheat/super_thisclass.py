# expect: reject static dunder-access
# cheat: a super object's internals, on the way to its objects' types and their namespaces.
class _Base:
    pass


class _Child(_Base):
    def peek(self):
        return super().__thisclass__.__dict__


def matmul(A, B):
    return _Child().peek() and A
