"""Rule: no double-underscore names that walk from an object to the interpreter's internals."""

from __future__ import annotations

import ast

from runtime.rewards.identifier_rule import ForbiddenIdentifierRule

_ARITHMETIC = ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "divmod", "pow", "lshift",
               "rshift", "and", "xor", "or")

ORDINARY_DUNDERS = frozenset({
    # what a module or class describes itself with
    "__name__", "__qualname__", "__module__", "__doc__", "__all__", "__version__", "__author__", "__slots__",
    "__match_args__", "__main__", "__future__", "__debug__", "__class__",
    # life cycle and class creation
    "__new__", "__init__", "__post_init__", "__del__", "__init_subclass__", "__set_name__",
    "__class_getitem__",
    "__instancecheck__", "__subclasscheck__", "__subclasshook__", "__prepare__", "__mro_entries__",
    # conversion and comparison
    "__repr__", "__str__", "__bytes__", "__format__", "__hash__", "__bool__", "__sizeof__", "__dir__",
    "__int__", "__float__", "__complex__", "__index__", "__round__", "__trunc__", "__floor__", "__ceil__",
    "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__",
    # attribute writes (reading attributes by name is not ordinary: __getattr__, __getattribute__)
    "__setattr__", "__delattr__",
    # containers, iteration, calls, context managers, copies
    "__len__", "__length_hint__", "__getitem__", "__setitem__", "__delitem__", "__missing__", "__contains__",
    "__iter__", "__reversed__", "__next__", "__call__", "__enter__", "__exit__", "__aenter__", "__aexit__",
    "__await__", "__aiter__", "__anext__", "__copy__", "__deepcopy__", "__replace__",
    # arithmetic
    "__neg__", "__pos__", "__abs__", "__invert__",
    *(f"__{prefix}{operation}__" for operation in _ARITHMETIC for prefix in ("", "r", "i")),
})
"""Special names of Python's data model that only implement protocols or describe objects."""


class DunderAccess(ForbiddenIdentifierRule):
    """Double-underscore names other than the ordinary special methods and descriptions
    (``ORDINARY_DUNDERS``: ``__init__``, ``__eq__``, ``__matmul__``, ``__name__``, ``__class__`` ...) walk
    from any object to any other: ``__globals__`` and ``__builtins__`` to the real builtins, ``__self__`` of
    a builtin function to the builtins module, ``__subclasses__`` to every class, ``__dict__`` and
    ``__getattribute__`` to attributes named at run time, ``__traceback__`` and ``__code__`` to frames and
    code. They are rejected when used, however spelled (as a name, an attribute, a pattern keyword, a
    getattr or setattr literal, a ``str.format`` field or a dataclass field). Writing ``__class__`` is
    rejected too: it turns any object into an instance of a class whose code reads what it likes from it;
    and so is binding the name ``__class__`` (``@property def __class__`` in a class body), which makes
    instances lie about their class to the library code that asks (dataclasses asks for a field default's
    ``__class__`` while it generates code from the field names). Defining any other special method is
    allowed."""

    name = "dunder-access"
    MESSAGE = "`{identifier}` reaches interpreter internals; use ordinary names and attributes"
    VALID = (
        "class Matrix:\n    __slots__ = ('rows',)\n    def __init__(self, rows):\n"
        "        super().__init__()\n        self.rows = rows\n    def __repr__(self):\n"
        "        return f'{type(self).__name__}({self.rows})'",
        "if __name__ == '__main__':\n    print(__doc__)",
        "__version__ = '1.0'\n__all__ = ['matmul']",
        "class Frozen:\n    def __post_init__(self):\n        object.__setattr__(self, 'size', 1)",
        "class Proxy:\n    def __getattr__(self, name):\n        return name",
        "text = '{0.__class__}'.format(1)",
    )
    INVALID = (
        "subclasses = ().__class__.__base__.__subclasses__()",
        "g = f.__globals__",
        "b = __builtins__",
        "module = len.__self__",
        "text = '{0.__globals__}'.format(f)",
        "code = f.__code__",
        "read = object.__getattribute__",
        "reduce_it = getattr(object(), '__reduce_ex__')",
        "def plant(cls, fields):\n    setattr(cls, '__dataclass_fields__', fields)",
        "def f(error):\n    return error.__traceback__",
        "match f:\n    case object(__closure__=cells):\n        pass",
        "np = __import__('numpy')",
        "def retype(thing, cls):\n    thing.__class__ = cls",
        "def retype(thing, cls):\n    object.__setattr__(thing, '__class__', cls)",
        "from dataclasses import dataclass\n@dataclass\nclass Peek:\n    __args__: tuple",
        "class Liar:\n    @property\n    def __class__(self):\n        return int",
        "class Liar:\n    __class__ = int",
    )
    CLASS_BINDING_MESSAGE = ("binding `__class__` makes objects lie about their class to the code that asks for "
                             "it; give it another name")

    def forbids_attribute_write(self, identifier: str) -> bool:
        return identifier == "__class__" or self.forbids_attribute(identifier)

    def forbids_attribute(self, identifier: str) -> bool:
        return (len(identifier) > 4 and identifier.startswith("__") and identifier.endswith("__")
                and identifier not in ORDINARY_DUNDERS)

    def visit_Name(self, node: ast.Name) -> None:
        super().visit_Name(node)
        if node.id == "__class__" and not isinstance(node.ctx, ast.Load):
            self.report(node, self.CLASS_BINDING_MESSAGE)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name == "__class__":
            self.report(node, self.CLASS_BINDING_MESSAGE)

    visit_AsyncFunctionDef = visit_FunctionDef
