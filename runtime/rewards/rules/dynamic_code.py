"""Rule: no code built or loaded at run time."""

from runtime.rewards.identifier_rule import ForbiddenIdentifierRule


class DynamicCode(ForbiddenIdentifierRule):
    """Code that runs strings or payloads (``exec``, ``eval``, ``compile``, ``__import__``,
    ``importlib.import_module``, pickle/marshal ``loads``, annotation evaluation) escapes every other
    check, because what it runs is only known at run time."""

    name = "dynamic-code"
    FORBIDDEN = frozenset({
        "exec", "eval", "compile", "__import__", "import_module", "breakpoint", "loads",
        "get_type_hints", "ForwardRef", "FunctionType", "CodeType", "LambdaType",
    })
    MESSAGE = "`{identifier}` runs code that is only known at run time; write the computation out directly"
    VALID = (
        "def f(a, b):\n    return a * b",
        "evaluation = 3",
        "def f(x):\n    return x.compiled",
    )
    INVALID = (
        "exec('import numpy')",
        "result = eval('1 + 1')",
        "code = compile('x = 1', 'f', 'exec')",
        "np = __import__('num' + 'py')",
        "run = exec\nrun('x = 1')",
        "payload = pickle.loads(data)",
        "from typing import get_type_hints",
    )
