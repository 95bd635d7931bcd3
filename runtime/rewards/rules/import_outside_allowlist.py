"""Rule: import only the modules the task allows."""

from __future__ import annotations

import libcst as cst
from libcst.helpers import get_full_name_for_node_or_raise

from runtime.rewards.lint_rule import LintRule


class ImportOutsideAllowlist(LintRule):
    """Every ``import m`` and ``from m import x`` must name a module of the task's allowlist exactly
    (``import os.path`` needs ``os.path`` allowed); relative imports are never allowed."""

    name = "import-outside-allowlist"
    VALID = (
        "import math",
        "from itertools import product as cartesian",
        "from __future__ import annotations",
        "def f():\n    import operator\n    return operator.mul(2, 3)",
    )
    INVALID = (
        "import numpy as np",
        "from numpy import dot",
        "import math, os",
        "import os.path",
        "from . import helpers",
        "def f():\n    import importlib\n    return importlib",
        "import pickle",
    )

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self._check_module(alias.evaluated_name, alias)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative:
            self.report(node, "relative imports reach files next to the submission; import only allowed modules")
        elif node.module is not None:
            self._check_module(get_full_name_for_node_or_raise(node.module), node)

    def _check_module(self, module: str, node: cst.CSTNode) -> None:
        if module not in self.context.allowed_modules:
            allowed = ", ".join(sorted(self.context.allowed_modules))
            self.report(node, f"module `{module}` is not allowed for this task (allowed: {allowed}); "
                              "write the computation with the allowed modules")
