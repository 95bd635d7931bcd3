"""Rule: take only public names from allowed modules, and use modules only to reach those names."""

from __future__ import annotations

import ast

from runtime.rewards.lint_rule import LintRule, RuleContext, source_of
from runtime.rewards.module_api import lacks, public_api, star_binds_module


class ModuleAttributeOutsideApi(LintRule):
    """``module.name`` and ``from module import name`` must name a public, non-module attribute of an
    allowed module (``typing.sys`` leads to ``sys.modules`` and everything else); an allowlisted submodule
    (``collections.abc`` when allowed) counts as a module, however it is imported (``import collections.abc``,
    ``from collections import abc``). A name the module does not have at all (``from math import sumprod`` on
    a Python without it, guarded by ``except ImportError``) is accepted: reaching it raises, so it reaches
    nothing. A module may only appear as ``module.name``:
    passed around as a value it could be searched by other means. ``from module import *`` is rejected
    only when it would bind a module. A name counts as a module where it may be bound by ``import`` by
    Python's scope rules, so a parameter that shadows a module name is an ordinary name."""

    name = "module-attribute-outside-api"
    VALID = (
        "import math\nx = math.sqrt(2.0)",
        "import typing as t\nMatrix = t.List[t.List[float]]",
        "from functools import reduce",
        "import itertools\npairs = list(itertools.product((1, 2), (3, 4)))",
        "import math\ndef f(math):\n    return math.anything",
        "from math import *\nroot = sqrt(2.0)",
        "try:\n    from math import no_such_function\nexcept ImportError:\n    no_such_function = None",
    )
    INVALID = (
        "import typing\nmodules = typing.sys.modules",
        "from typing import sys",
        "import functools\nlock = functools.RLock",
        "import math\nm = math",
        "import math\nprint(math)",
        "import math\nloader = math._private",
        "def f():\n    import typing as t\n    def g():\n        return t.sys\n    return g",
        "import typing as t\nclass C:\n    x = t.sys\n    t = 1",
        "import math\nprivate = math._no_such_function",
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._attribute_bases: set[int] = set()

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level or module not in self.context.allowed_modules:
            return
        for alias in node.names:
            if alias.name == "*":
                if star_binds_module(module):
                    self.report(node, f"`from {module} import *` binds modules; import the names you need "
                                      "by name")
            elif f"{module}.{alias.name}" not in self.context.allowed_modules:
                self._check_public(module, alias.name, node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        modules = self._modules_of(node.value)
        if modules:
            self._attribute_bases.add(id(node.value))
        for module in modules:
            if f"{module}.{node.attr}" not in self.context.allowed_modules:
                self._check_public(module, node.attr, node)
        self._check_used_as_value(node)

    def visit_Name(self, node: ast.Name) -> None:
        self._check_used_as_value(node)

    def _check_used_as_value(self, node: ast.Name | ast.Attribute) -> None:
        if id(node) not in self._attribute_bases and self._modules_of(node):
            self.report(node, f"module `{source_of(node)}` is used as a value; use it only as "
                              f"`{source_of(node)}.name` with the public names it documents")

    def _modules_of(self, node: ast.AST) -> frozenset[str]:
        """The allowed modules ``node`` may be: a name bound by ``import``, or an allowlisted submodule."""
        if isinstance(node, ast.Name):
            imported = {meaning.module if meaning.kind == "module" else f"{meaning.module}.{meaning.name}"
                        for meaning in self.context.scopes.meanings(node)
                        if meaning.kind in ("module", "from-import")}
            return frozenset(imported & self.context.allowed_modules)
        if isinstance(node, ast.Attribute):
            return frozenset(f"{module}.{node.attr}" for module in self._modules_of(node.value)
                             if f"{module}.{node.attr}" in self.context.allowed_modules)
        return frozenset()

    def _check_public(self, module: str, attribute: str, node: ast.AST) -> None:
        if attribute not in public_api(module) and not lacks(module, attribute):
            self.report(node, f"`{attribute}` is not part of module {module}'s public API (modules reachable "
                              "through it are not allowed either); use its documented names")
