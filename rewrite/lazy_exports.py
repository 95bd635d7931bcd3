"""Package attributes imported on first use, so that `rewrite --help` starts without torch.

`make_lazy(package, exports)` turns a package into a `LazyPackage`: reading `package.NAME` imports
`exports[NAME]` (a module path, relative to the package or absolute) and returns that module's NAME. An export may
share its name with a submodule (`rewrite.build` the function, in `rewrite/build.py`): the export wins, as it did
with `from .build import build` in the package, even when the submodule is imported first.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class LazyPackage(types.ModuleType):
    """A package module whose `_lazy_exports` are imported when first read."""

    _lazy_exports: dict[str, str]

    def __getattr__(self, name: str) -> Any:  # called only for names not set yet
        exports = self.__dict__.get("_lazy_exports", {})
        if name not in exports:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], self.__name__), name)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        exports = self.__dict__.get("_lazy_exports", {})
        if name in exports and isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}":
            return  # the import system naming a submodule on its package: keep the export of that name
        super().__setattr__(name, value)


def make_lazy(package: str, exports: dict[str, str]) -> None:
    """Make the (already imported) package `package` import `exports` on first use."""
    module = sys.modules[package]
    module.__class__ = LazyPackage
    module.__dict__["_lazy_exports"] = exports
