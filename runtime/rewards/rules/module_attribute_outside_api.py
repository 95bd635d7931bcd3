"""Rule: take only public names from allowed modules, and use modules only to reach those names."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node_or_raise

from runtime.rewards.lint_rule import LintRule, RuleContext, source_of
from runtime.rewards.module_api import public_api


class ModuleAttributeOutsideApi(LintRule):
    """``module.name`` and ``from module import name`` must name a public, non-module attribute of an
    allowed module (``typing.sys`` leads to ``sys.modules`` and everything else). A module may only
    appear as ``module.name``: passed around as a value it could be searched by other means.
    ``from module import *`` is rejected because the names it binds cannot be checked."""

    name = "module-attribute-outside-api"
    VALID = (
        "import math\nx = math.sqrt(2.0)",
        "import typing as t\nMatrix = t.List[t.List[float]]",
        "from functools import reduce",
        "import itertools\npairs = list(itertools.product((1, 2), (3, 4)))",
    )
    INVALID = (
        "import typing\nmodules = typing.sys.modules",
        "from typing import sys",
        "import functools\nlock = functools.RLock",
        "import math\nm = math",
        "import math\nprint(math)",
        "from math import *",
        "import math\nloader = math._private",
    )

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._module_of_alias: dict[str, str] = {}
        self._attribute_bases: set[cst.Name] = set()

    def visit_Module(self, node: cst.Module) -> None:
        # Aliases are collected first: a function body may use a module imported further down.
        for statement in m.findall(node, m.Import()):
            for alias in statement.names:
                # `import a.b as c` binds c to a.b; `import a.b` binds a to a.
                module = alias.evaluated_name if alias.asname else alias.evaluated_name.split(".")[0]
                if module in self.context.allowed_modules:
                    self._module_of_alias[alias.evaluated_alias or module] = module

    def visit_Import(self, node: cst.Import) -> bool:
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if node.relative or node.module is None:
            return False
        module = get_full_name_for_node_or_raise(node.module)
        if module not in self.context.allowed_modules:
            return False
        if isinstance(node.names, cst.ImportStar):
            self.report(node, f"`from {module} import *` binds names that cannot be checked; import them by name")
            return False
        for alias in node.names:
            self._check_public(module, alias.evaluated_name, alias)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value in self._module_of_alias:
            self._attribute_bases.add(node.value)
            self._check_public(self._module_of_alias[node.value.value], node.attr.value, node)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self._module_of_alias and node not in self._attribute_bases:
            self.report(node, f"module `{node.value}` is used as a value; use it only as "
                              f"`{node.value}.name` with the public names it documents")

    def _check_public(self, module: str, attribute: str, node: cst.CSTNode) -> None:
        if attribute not in public_api(module):
            self.report(node, f"`{source_of(node)}` is not part of module {module}'s public API "
                              "(modules reachable through it are not allowed either); use its documented names")
