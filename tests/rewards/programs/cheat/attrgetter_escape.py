# expect: reject static dynamic-attribute
# cheat: operator.attrgetter reaches attributes named by strings.
import operator


def matmul(A, B):
    namespace = operator.attrgetter("__glob" + "als__")(matmul)
    return namespace.get("expected", A)
