"""Reward functions named as "module:function", for `rewrite train --reward-funcs` and `GRPOTrainer(reward_funcs=...)`.

The module is imported with the current working directory on `sys.path` (first, as `python -m` puts it), so that
`mymodule.py` next to where the command runs is found from a fresh shell; the function may be an attribute path
(`module:Class.method`). Every failure is a `GRPOInputError` that says what to fix.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from runtime.grpo.errors import GRPOInputError

_EXAMPLE = "e.g. mymodule:reward for def reward(...) in mymodule.py in the working directory"


def load_reward_function(spec: str | Callable[..., Any]) -> Callable[..., Any]:
    """The callable `spec` names ("module:function"), or `spec` itself when it is callable already."""
    if callable(spec):
        return spec
    if isinstance(spec, str) and ":" not in spec:
        raise GRPOInputError(
            f"reward function {spec!r} is not 'module:function': TRL would load it as a reward model "
            "(AutoModelForSequenceClassification), which this trainer does not run. Wrap the model in a function "
            "(prompts, completions, **kwargs) -> list[float] that scores the completions with it, or name a "
            f"function as 'module:function' ({_EXAMPLE})."
        )
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise GRPOInputError(f"reward function {spec!r} must be given as 'module:function' ({_EXAMPLE}).")
    module_name, attribute_path = spec.split(":")
    module = _import(module_name, spec)
    value: Any = module
    for depth, attribute in enumerate(attribute_path.split(".")):
        if not hasattr(value, attribute):
            owner = module_name if depth == 0 else f"{module_name}:{'.'.join(attribute_path.split('.')[:depth])}"
            raise GRPOInputError(
                f"reward function {spec!r}: {owner} ({_location(module)}) has no attribute {attribute!r}; "
                f"its functions are {', '.join(_public_callables(value)) or '(none)'}."
            )
        value = getattr(value, attribute)
    if not callable(value):
        raise GRPOInputError(
            f"reward function {spec!r} is a {type(value).__name__}, not a function: name a function "
            "(prompts, completions, **kwargs) -> list[float | None]."
        )
    return value


def _import(module_name: str, spec: str):
    working_directory = os.getcwd()
    if working_directory not in sys.path:
        sys.path.insert(0, working_directory)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and f"{module_name}.".startswith(f"{error.name}."):  # the module or its package
            raise GRPOInputError(
                f"reward function {spec!r}: no module {module_name!r}: looked for {module_name.replace('.', '/')}.py "
                f"(or a package of that name) in the working directory {working_directory} and on the Python path; "
                "run from the directory that holds it, or add that directory to PYTHONPATH."
            ) from error
        raise GRPOInputError(f"reward function {spec!r}: importing {module_name} failed: {error}.") from error
    except Exception as error:  # the user's module raised while importing (a SyntaxError, a failed import, ...)
        raise GRPOInputError(
            f"reward function {spec!r}: importing {module_name} raised {type(error).__name__}: {error}."
        ) from error


def _location(module: Any) -> str:
    return getattr(module, "__file__", None) or "a built-in module"


def _public_callables(value: Any) -> list[str]:
    return sorted(name for name in dir(value) if not name.startswith("_") and callable(getattr(value, name, None)))
