# expect: reject static dunder-access
# cheat: pull the ForwardRef out of List[text] with class patterns instead of get_args, then evaluate it.
import typing

_TEXT = "__imp" + "ort__('numpy')"


def matmul(A, B):
    match typing.List[_TEXT]:
        case object(__args__=(reference,)):
            match reference:
                case object(_evaluate=run):
                    return run({}, {}, frozenset()).dot(A, B).tolist()
    return A
