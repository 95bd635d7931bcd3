"""The public names of the modules a task allows, which is all a submission may take from them."""

from __future__ import annotations

import functools
import importlib
import types

from runtime.rewards.errors import CodingTaskConfigError


@functools.cache
def public_api(module_name: str) -> frozenset[str]:
    """Names ``module_name`` documents, less those bound to modules (``typing.sys`` would lead a submission
    to modules outside the allowlist). Raises ``CodingTaskConfigError`` when the module cannot be imported."""
    module = _imported(module_name)
    return frozenset(name for name in star_names(module_name) if not isinstance(getattr(module, name, None),
                                                                                  types.ModuleType))


@functools.cache
def star_names(module_name: str) -> tuple[str, ...]:
    """The names ``from module_name import *`` binds: its ``__all__``, else its names without a leading
    underscore. Raises ``CodingTaskConfigError`` when the module cannot be imported."""
    module = _imported(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in dir(module) if not name.startswith("_")]
    return tuple(names)


def lacks(module_name: str, attribute: str) -> bool:
    """Whether ``module_name`` has no attribute ``attribute`` at all, and no module ``__getattr__`` that could
    make one up: reaching it raises (``from math import sumprod`` on a Python without it is an ImportError),
    so nothing is reached. Names with a leading underscore never count as lacking (those are the private
    ones). Raises ``CodingTaskConfigError`` when the module cannot be imported."""
    module = _imported(module_name)
    return (not attribute.startswith("_") and attribute not in vars(module)
            and "__getattr__" not in vars(module) and not hasattr(types.ModuleType, attribute))


def star_binds_module(module_name: str) -> bool:
    """Whether ``from module_name import *`` binds a name to a module."""
    return not public_api(module_name) >= set(star_names(module_name))


def _imported(module_name: str) -> types.ModuleType:
    try:
        return importlib.import_module(module_name)
    except ImportError as error:
        raise CodingTaskConfigError(
            f"allowlisted module {module_name!r} cannot be imported ({error}); "
            "remove it from the task's allowed_modules or install it"
        ) from error
