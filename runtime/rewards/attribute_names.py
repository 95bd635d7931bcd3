"""Attributes that code names with a string instead of writing them out: the name arguments of ``getattr``,
``setattr``, ``delattr``, ``__setattr__`` and ``__delattr__``, and the replacement fields of ``str.format``
templates (``"{0.rows}".format(m)`` reads ``m.rows``)."""

from __future__ import annotations

import _string  # the parser str.format itself uses, so that fields are split exactly as it splits them
import ast
import string
from collections.abc import Collection

from runtime.rewards.scopes import Scopes

NAMING_BUILTINS = {"getattr": 1, "setattr": 1, "delattr": 1}
"""Builtins that read or write the attribute a string argument names, with that argument's position."""
NAMING_METHODS = {"__setattr__": 2, "__delattr__": 1}
"""Special methods that write the attribute a string argument names, with that argument's position counted
from the end (bound or not, ``__setattr__``'s name comes just before the value)."""
WRITERS = frozenset({"setattr", "delattr", "__setattr__", "__delattr__"})

FORMAT_METHODS = frozenset({"format", "format_map"})
"""String methods whose template fields read attributes of the arguments."""

_MAX_SPEC_NESTING = 3
"""str.format allows fields inside format specs two levels deep; deeper templates are malformed."""


def naming_callable(node: ast.AST, scopes: Scopes) -> str | None:
    """Which of ``NAMING_BUILTINS`` or ``NAMING_METHODS`` ``node`` may refer to (a name that may be the
    builtin, or an attribute of that special name on anything), else None."""
    if isinstance(node, ast.Attribute):
        return node.attr if node.attr in NAMING_METHODS else None
    if isinstance(node, ast.Name) and node.id in NAMING_BUILTINS and scopes.may_be_builtin(node):
        return node.id
    return None


def literal_name(call: ast.Call, scopes: Scopes) -> tuple[str, str] | None:
    """(callable, attribute name) for a call of a naming callable whose name argument is a string literal;
    None when the call is of something else, or the name is computed."""
    function = naming_callable(call.func, scopes)
    if function is None or any(isinstance(argument, ast.Starred) for argument in call.args):
        return None
    if function in NAMING_BUILTINS:
        position = NAMING_BUILTINS[function]
    else:
        position = len(call.args) - NAMING_METHODS[function]
    if not 0 <= position < len(call.args):
        return None
    argument = call.args[position]
    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
        return function, argument.value
    return None


def module_function(node: ast.AST, functions: Collection[tuple[str, str]], scopes: Scopes) -> str | None:
    """``"module.name"`` when ``node`` may refer to one of ``functions`` (pairs of module and name): as an
    attribute of a name bound to the module, or as a name imported from it under any alias."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        for module in scopes.modules(node.value):
            if (module, node.attr) in functions:
                return f"{module}.{node.attr}"
    elif isinstance(node, ast.Name):
        for meaning in scopes.meanings(node):
            if meaning.kind == "from-import" and (meaning.module, meaning.name) in functions:
                return f"{meaning.module}.{meaning.name}"
    return None


def template_names_read(template: str, depth: int = 0) -> list[str] | None:
    """The attribute names the replacement fields of a ``str.format`` template read, those of fields
    nested in format specs included; None when the template is malformed (str.format reads the fields
    before the error, so a malformed template cannot be vouched for)."""
    if depth >= _MAX_SPEC_NESTING:
        return None
    names: list[str] = []
    try:
        for _, field, spec, _ in string.Formatter().parse(template):
            if field is None:
                continue
            _, rest = _string.formatter_field_name_split(field)
            names.extend(str(key) for is_attribute, key in rest if is_attribute)
            nested = template_names_read(spec, depth + 1) if spec else []
            if nested is None:
                return None
            names.extend(nested)
    except ValueError:
        return None
    return names

