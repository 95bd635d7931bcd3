"""Rule: import only the modules the task allows."""

from __future__ import annotations

import ast

from runtime.rewards.lint_rule import LintRule, RuleContext
from runtime.rewards.scopes import BUILTIN


class ImportOutsideAllowlist(LintRule):
    """Every ``import m`` and ``from m import x`` must name a module of the task's allowlist exactly
    (``import os.path`` needs ``os.path`` allowed); relative imports are never allowed. This is the readable
    reason for laziness (numpy does the work in C) and the first wall around the standard library (ctypes
    runs machine code). Imports under ``if __name__ == "__main__":`` are not checked: that block never
    runs in the sandbox. Neither is an import written directly in the body of a ``try`` whose handler
    catches ImportError (``try: import numpy`` / ``except ImportError:`` a pure-Python fallback): the sandbox's
    ``__import__`` refuses every module outside the allowlist with ModuleNotFoundError, as Python says of a
    module it cannot find, so the import binds nothing and the fallback runs."""

    name = "import-outside-allowlist"
    VALID = (
        "import math",
        "from itertools import product as cartesian",
        "from __future__ import annotations",
        "def f():\n    import operator\n    return operator.mul(2, 3)",
        "if __name__ == '__main__':\n    import random\n    print(random.random())",
        "try:\n    import numpy as np\nexcept ImportError:\n    np = None",
        "try:\n    from numpy import dot\nexcept (ValueError, Exception):\n    dot = None",
        "try:\n    import numpy\nexcept ModuleNotFoundError:\n    numpy = None",
    )
    INVALID = (
        "import numpy as np",
        "from numpy import dot",
        "import math, os",
        "import os.path",
        "from . import helpers",
        "def f():\n    import importlib\n    return importlib",
        "__name__ = '__main__'\nif __name__ == '__main__':\n    import ctypes",
        "try:\n    import numpy\nexcept ValueError:\n    numpy = None",
        "try:\n    if True:\n        import numpy\nexcept ImportError:\n    numpy = None",
        "try:\n    from . import helpers\nexcept ImportError:\n    helpers = None",
        "ImportError = Exception\ntry:\n    import numpy\nexcept ImportError:\n    numpy = None",
    )

    IMPORT_ERRORS = frozenset({"ModuleNotFoundError", "ImportError", "Exception", "BaseException"})
    """Builtin exceptions a handler may name to catch the ModuleNotFoundError of a refused import."""

    def __init__(self, context: RuleContext) -> None:
        super().__init__(context)
        self._guarded: set[int] = set()

    def visit_Try(self, node: ast.Try) -> None:
        if any(self._catches_import_error(handler.type) for handler in node.handlers):
            self._guarded.update(id(statement) for statement in node.body)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            self.report(node, "relative imports reach files next to the submission; import only allowed "
                              "modules")
        elif node.module is not None:
            self._check_module(node.module, node)

    def _catches_import_error(self, caught: ast.expr | None) -> bool:
        if caught is None:
            return True
        if isinstance(caught, ast.Tuple):
            return any(self._catches_import_error(element) for element in caught.elts)
        return (isinstance(caught, ast.Name) and caught.id in self.IMPORT_ERRORS
                and self.context.scopes.meanings(caught) == {BUILTIN})

    def _check_module(self, module: str, node: ast.AST) -> None:
        if module not in self.context.allowed_modules and id(node) not in self._guarded:
            allowed = ", ".join(sorted(self.context.allowed_modules))
            self.report(node, f"module `{module}` is not allowed for this task (allowed: {allowed}); "
                              "write the computation with the allowed modules")
