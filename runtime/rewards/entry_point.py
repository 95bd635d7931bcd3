"""Does a submission define the function a task asks for?"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Iterator

_BLOCKS = (ast.If, ast.Try, ast.With, ast.For, ast.While)
"""Module-level statements whose bodies also run at import (and so bind module names)."""


def defines_function(source: str, name: str, arity: int) -> bool:
    """True when ``source`` parses and binds ``name`` at module level to something that can be called with
    ``arity`` positional arguments: a ``def`` or lambda that accepts them, another module-level function of
    the right arity bound under this name (``matmul = multiply_matrices``), or a value whose signature cannot
    be known without running the code (an imported name, a call's result). The sandbox checks the rest."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    definitions = {}
    for statement in _module_level(tree.body):
        for bound, value in _bindings(statement):
            definitions.setdefault(bound, []).append(value)
    return any(_accepts(value, arity, definitions, set()) for value in definitions.get(name, ()))


def _module_level(statements: list[ast.stmt]) -> Iterator[ast.stmt]:
    for statement in statements:
        yield statement
        if isinstance(statement, _BLOCKS):
            for block in ("body", "orelse", "finalbody"):
                yield from _module_level(getattr(statement, block, []))
            for handler in getattr(statement, "handlers", []):
                yield from _module_level(handler.body)


def _bindings(statement: ast.stmt) -> Iterator[tuple[str, ast.AST]]:
    """(name, what it is bound to) for the module-level bindings one statement makes."""
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield statement.name, statement
    elif isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Name):
                yield target.id, statement.value
    elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
        yield statement.target.id, statement.value
    elif isinstance(statement, (ast.Import, ast.ImportFrom)):
        for alias in statement.names:
            yield alias.asname or alias.name.partition(".")[0], alias


def _accepts(value: ast.AST, arity: int, definitions: dict[str, list[ast.AST]], seen: set[str]) -> bool:
    if isinstance(value, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return _arguments_accept(value.args, arity)
    if isinstance(value, ast.Name):
        if value.id in seen or value.id not in definitions:
            return value.id not in seen  # a builtin or a name bound some other way: decided at run time
        return any(_accepts(other, arity, definitions, seen | {value.id}) for other in definitions[value.id])
    return not isinstance(value, ast.Constant | ast.JoinedStr | ast.List | ast.Tuple | ast.Dict | ast.Set)


def _arguments_accept(arguments: ast.arguments, arity: int) -> bool:
    positional = len(arguments.posonlyargs) + len(arguments.args)
    required = positional - len(arguments.defaults)
    keyword_only_required = any(default is None for default in arguments.kw_defaults)
    fits = required <= arity and (positional >= arity or arguments.vararg is not None)
    return fits and not keyword_only_required
