"""Which expressions certainly evaluate to values that no later code can change.

Names that outlive a call (module globals, class attributes, default arguments) may only hold such
values; otherwise they can carry a cache or a counter from one call to the next.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

import libcst as cst
from libcst.metadata import QualifiedName, QualifiedNameSource

QualifiedNamesOf = Callable[[cst.CSTNode], Collection[QualifiedName]]
"""Looks up the qualified names of a node (a rule's ``QualifiedNameProvider`` metadata)."""

_PURE_BUILTINS = frozenset(f"builtins.{name}" for name in (
    "int", "float", "complex", "bool", "str", "bytes", "tuple", "frozenset", "range", "slice", "object",
    "len", "abs", "min", "max", "round", "pow", "sum", "divmod", "chr", "ord", "repr", "hash", "format",
    "isinstance", "issubclass", "callable",
))
"""Builtins whose result is immutable whatever their (immutable) arguments."""

_PURE_MODULES = frozenset({"math", "cmath", "operator", "typing", "fractions"})
"""Modules whose functions return immutable values (numbers, types, stateless callables)."""

_COPYING_CONSTRUCTORS = frozenset({"builtins.tuple", "builtins.frozenset"})
"""Calls that copy a container literal into an immutable one, so the literal may be mutable."""

_LITERALS = (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString,
             cst.FormattedString, cst.Ellipsis, cst.Name, cst.Attribute, cst.Lambda)
"""Expressions that are immutable by themselves. Names and attributes count: the bindings they refer
to are checked where they are made, and functions, classes and modules are guarded by the rules on
attribute assignment."""


def is_immutable_value(node: cst.BaseExpression, qualified_names: QualifiedNamesOf) -> bool:
    """True when ``node`` certainly evaluates to an immutable value; False when it may not."""
    if isinstance(node, _LITERALS):
        return True
    if isinstance(node, cst.Tuple):
        return all(is_immutable_value(element.value, qualified_names) for element in node.elements)
    if isinstance(node, cst.UnaryOperation):
        return is_immutable_value(node.expression, qualified_names)
    if isinstance(node, (cst.BinaryOperation, cst.BooleanOperation)):
        return is_immutable_value(node.left, qualified_names) and is_immutable_value(node.right, qualified_names)
    if isinstance(node, cst.Comparison):
        return True
    if isinstance(node, cst.IfExp):
        return is_immutable_value(node.body, qualified_names) and is_immutable_value(node.orelse, qualified_names)
    if isinstance(node, cst.Subscript):
        return is_immutable_value(node.value, qualified_names) and all(
            isinstance(element.slice, cst.Index) and is_immutable_value(element.slice.value, qualified_names)
            for element in node.slice
        )
    if isinstance(node, cst.Call):
        return _is_pure_call(node, qualified_names)
    return False


def _is_pure_call(node: cst.Call, qualified_names: QualifiedNamesOf) -> bool:
    callee = {
        name.name for name in qualified_names(node.func)
        if name.source in (QualifiedNameSource.BUILTIN, QualifiedNameSource.IMPORT)
    }
    if not callee or not all(name in _PURE_BUILTINS or name.rpartition(".")[0] in _PURE_MODULES for name in callee):
        return False
    copies = callee <= _COPYING_CONSTRUCTORS
    return all(
        is_immutable_value(arg.value, qualified_names) or (copies and _is_display_of_immutables(arg.value, qualified_names))
        for arg in node.args
    )


def _is_display_of_immutables(node: cst.BaseExpression, qualified_names: QualifiedNamesOf) -> bool:
    return isinstance(node, (cst.List, cst.Set)) and all(
        not isinstance(element, cst.StarredElement) and is_immutable_value(element.value, qualified_names)
        for element in node.elements
    )
