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
    definitions: dict[str, list[ast.AST]] = {}
    for statement in _module_level(tree.body):
        for bound, value in _bindings(statement):
            definitions.setdefault(bound, []).append(value)
    return name in _callable_names(definitions, arity)


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


def _callable_names(definitions: dict[str, list[ast.AST]], arity: int) -> set[str]:
    """The names some binding of which accepts ``arity`` positional arguments: those bound to such a value
    directly, then, backwards along ``a = b`` bindings, the names bound to one of them (a cycle of names
    alone accepts nothing). Linear in the bindings, however they chain or fan out."""
    aliases: dict[str, list[str]] = {}
    found: set[str] = set()
    for bound, values in definitions.items():
        for value in values:
            if isinstance(value, ast.Name) and value.id in definitions:
                aliases.setdefault(value.id, []).append(bound)
            elif _accepts(value, arity):
                found.add(bound)
    pending = list(found)
    while pending:
        for alias in aliases.get(pending.pop(), ()):
            if alias not in found:
                found.add(alias)
                pending.append(alias)
    return found


def _accepts(value: ast.AST, arity: int) -> bool:
    """Whether ``value`` (not a name bound at module level) may be called with ``arity`` arguments."""
    if isinstance(value, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        return _arguments_accept(value.args, arity)
    if isinstance(value, ast.Name):
        return True  # a builtin or a name bound some other way: decided at run time
    return not isinstance(value, ast.Constant | ast.JoinedStr | ast.List | ast.Tuple | ast.Dict | ast.Set)


def _arguments_accept(arguments: ast.arguments, arity: int) -> bool:
    positional = len(arguments.posonlyargs) + len(arguments.args)
    required = positional - len(arguments.defaults)
    keyword_only_required = any(default is None for default in arguments.kw_defaults)
    fits = required <= arity and (positional >= arity or arguments.vararg is not None)
    return fits and not keyword_only_required
