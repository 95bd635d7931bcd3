"""Rule: import only the modules the task allows."""

from __future__ import annotations

import ast

from runtime.rewards.lint_rule import LintRule


class ImportOutsideAllowlist(LintRule):
    """Every ``import m`` and ``from m import x`` must name a module of the task's allowlist exactly
    (``import os.path`` needs ``os.path`` allowed); relative imports are never allowed. This is the readable
    reason for laziness (numpy does the work in C) and the first wall around the standard library (ctypes
    runs machine code). Imports under ``if __name__ == "__main__":`` are not checked: that block never
    runs in the sandbox."""

    name = "import-outside-allowlist"
    VALID = (
        "import math",
        "from itertools import product as cartesian",
        "from __future__ import annotations",
        "def f():\n    import operator\n    return operator.mul(2, 3)",
        "if __name__ == '__main__':\n    import random\n    print(random.random())",
    )
    INVALID = (
        "import numpy as np",
        "from numpy import dot",
        "import math, os",
        "import os.path",
        "from . import helpers",
        "def f():\n    import importlib\n    return importlib",
        "__name__ = '__main__'\nif __name__ == '__main__':\n    import ctypes",
    )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.report(node, "relative imports reach files next to the submission; import only allowed "
                              "modules")
        elif node.module is not None:
            self._check_module(node.module, node)

    def _check_module(self, module: str, node: ast.AST) -> None:
        if module not in self.context.allowed_modules:
            allowed = ", ".join(sorted(self.context.allowed_modules))
            self.report(node, f"module `{module}` is not allowed for this task (allowed: {allowed}); "
                              "write the computation with the allowed modules")
