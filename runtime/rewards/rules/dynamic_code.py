"""Rule: no code built from strings at run time."""

from __future__ import annotations

from runtime.rewards.identifier_rule import ForbiddenIdentifierRule


class DynamicCode(ForbiddenIdentifierRule):
    """Code that runs strings (``eval``, ``exec``, ``compile``, ``breakpoint``) escapes every other check,
    because what it runs is only known at run time; evaluated with fresh globals it even gets the real
    builtins. The typing and functools entry points that evaluate annotation strings count too:
    ``typing.get_type_hints``, ``typing.ForwardRef`` and its ``_evaluate`` (reached through
    ``typing.get_args(List[text])``), ``functools.singledispatch`` (its ``register`` evaluates
    annotations)."""

    name = "dynamic-code"
    FORBIDDEN_NAMES = frozenset({"eval", "exec", "compile", "breakpoint"})
    FORBIDDEN_ATTRIBUTES = frozenset({
        "get_type_hints", "ForwardRef", "get_args", "_evaluate", "_eval_type", "evaluate_forward_ref",
        "singledispatch", "singledispatchmethod",
    })
    MESSAGE = ("`{identifier}` runs strings as code, or leads to what does; write the computation out "
               "directly")
    VALID = (
        "def f(a, b):\n    return a * b",
        "def f(rows):\n    compile = [row for row in rows]\n    return compile",
        "from typing import List, Optional\nMatrix = List[List[float]]",
    )
    INVALID = (
        "exec('import numpy')",
        "result = eval('1 + 1')",
        "run = exec",
        "from typing import get_type_hints",
        "import typing\nref = typing.get_args(typing.List['x'])[0]._evaluate({}, {}, frozenset())",
        "import functools\n@functools.singledispatch\ndef f(x):\n    return x",
        "def f(ref):\n    match ref:\n        case object(_evaluate=run):\n            return run",
    )
