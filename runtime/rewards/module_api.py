"""The public names of the modules a task allows, which is all a submission may take from them."""

from __future__ import annotations

import functools
import importlib
import types

from runtime.rewards.errors import TaskConfigError

_UNSAFE_VALUES = (types.ModuleType, list, dict, set, bytearray)


@functools.cache
def public_api(module_name: str) -> frozenset[str]:
    """Names ``module_name`` documents: its ``__all__``, else its names without a leading underscore.

    Names bound to modules are left out even when public, so that attributes like ``typing.sys`` cannot
    lead a submission to modules outside the allowlist; so are names bound to mutable containers (such as
    ``__future__.all_feature_names``), which would keep state from one call to the next.
    Raises ``TaskConfigError`` when the module cannot be imported.
    """
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise TaskConfigError(
            f"allowlisted module {module_name!r} cannot be imported ({error}); "
            "remove it from the task's allowed_modules or install it"
        ) from error
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in dir(module) if not name.startswith("_")]
    return frozenset(name for name in names if not isinstance(getattr(module, name, None), _UNSAFE_VALUES))
