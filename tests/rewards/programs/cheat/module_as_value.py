# expect: reject static module-attribute-outside-api
# cheat: pass a module around so its attributes are looked up out of sight.
import functools


def _search(module):
    return module


def matmul(A, B):
    tools = _search(functools)
    return tools.reduce(lambda acc, row: acc + [row], A, [])
