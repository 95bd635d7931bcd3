"""Does a submission define the function a task asks for?"""

from __future__ import annotations

import ast


def defines_function(source: str, name: str, arity: int) -> bool:
    """True when ``source`` parses and binds ``name`` at module level, with ``def`` or to a lambda,
    to a function that accepts ``arity`` positional arguments."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == name:
            if _accepts(statement.args, arity):
                return True
        elif isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Lambda):
            if any(isinstance(target, ast.Name) and target.id == name for target in statement.targets):
                if _accepts(statement.value.args, arity):
                    return True
    return False


def _accepts(arguments: ast.arguments, arity: int) -> bool:
    positional = len(arguments.posonlyargs) + len(arguments.args)
    required = positional - len(arguments.defaults)
    keyword_only_required = any(default is None for default in arguments.kw_defaults)
    fits = required <= arity and (positional >= arity or arguments.vararg is not None)
    return fits and not keyword_only_required
