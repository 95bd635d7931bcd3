# expect: reject static dynamic-attribute
# cheat: dataclasses.asdict reads each field by its Field's name, and that name can be changed afterwards.
import dataclasses


@dataclasses.dataclass
class _Reader:
    value: object = None


_field = dataclasses.fields(_Reader)[0]


def _read(thing, name):
    _field.name = name
    thing.__class__ = _Reader
    return dataclasses.asdict(thing)[name]


def matmul(A, B):
    return A
