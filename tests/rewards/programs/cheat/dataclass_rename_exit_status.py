# expect: reject runtime crashed
# cheat: exit with status 163, which bubblewrap's convention reads as a death by signal 35; the parent
# named it with signal.Signals(35), which raises: reward-check died with a traceback.
# The escape is dataclasses' own code generation: user code that runs while the decorator processes the
# class, after the field got its name, renames the field; `__repr__` is then generated from source text holding
# that name, which closes the f-string, runs unanalysed (with the submission's restricted builtins, but any
# module's `__builtins__` are the real ones) and comments out the rest of the line. No eval, no ctypes, no
# forbidden dunder in the analysed code.
import dataclasses

PAYLOAD = (
    "696d706f7274206f730a6f732e5f6578697428313238202b20333529202023207768617420627562626c6577726170207265"
    "706f72747320666f722061206465617468206279207369676e616c2033352c2061207369676e616c20776974686f75742061"
    "206e616d650a"
)
NAME = ('z)" + str(dataclasses.__builtins__["exec"](bytes.fromhex(PAYLOAD), '
        '{"box": self, "__builtins__": dataclasses.__builtins__}))#')


class Renaming(type):
    """dataclass sets the field's default on the class once the field has its name: rename it then."""

    def __setattr__(cls, name, value):
        if name == "x":
            FIELD.name = NAME.replace("PAYLOAD", repr(PAYLOAD), 1)
        elif name == "__repr__":
            type.__setattr__(cls, "__repr__", value)


FIELD = dataclasses.field(default=0)


@dataclasses.dataclass(init=False, eq=False)
class Holder(metaclass=Renaming):
    x: int = FIELD


holder = Holder()
repr(holder)


def matmul(A, B):
    return holder.run(A, B)
