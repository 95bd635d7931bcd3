"""Turn a graph module into a standalone Python source file and back into a module.

The source defines one `torch.nn.Module` subclass whose `forward` is torch.fx's generated code. Its
imports are derived from the code's globals: modules, functions by qualified name, and the modules
that register the custom op namespaces the code calls (`torch.ops.<namespace>`).
"""

from __future__ import annotations

import math
import re
import types

import torch

from . import callable_modules
from .errors import CheckpointError

CLASS_NAME = "RewrittenGptOssGraph"

# Custom op namespaces and the module whose import registers them.
OP_NAMESPACE_MODULES = {
    "gpt_oss_rewrite": "rewrite.marks",
    "transformers": "transformers.integrations.moe",
}

_FIXED_GLOBALS = {
    "inf": "from math import inf",
    "nan": "from math import nan",
    "NoneType": "NoneType = type(None)",
    "device": "from torch import device",
}


def register_op_namespace(namespace: str, module: str) -> None:
    """Passes that insert ops of a new `torch.ops` namespace name the module that registers it."""
    OP_NAMESPACE_MODULES[namespace] = module


def module_source(graph_module: torch.fx.GraphModule, header: str) -> str:
    code = graph_module.graph.python_code(root_module="self")
    imports = ["import torch"]
    for name, value in sorted(code.globals.items()):
        imports.append(_import_line(name, value))
    for namespace in sorted(set(re.findall(r"torch\.ops\.(\w+)\.", code.src))):
        if namespace != "aten":
            if namespace not in OP_NAMESPACE_MODULES:
                raise CheckpointError(f"no module is known to register torch.ops.{namespace}")
            imports.append(f"import {OP_NAMESPACE_MODULES[namespace]}  # registers torch.ops.{namespace}")
    body = "\n".join("    " + line if line.strip() else "" for line in code.src.strip("\n").splitlines())
    unique_imports = list(dict.fromkeys(line for line in imports if line))
    return f'"""{header}"""\n\n' + "\n".join(unique_imports) + f"\n\n\nclass {CLASS_NAME}(torch.nn.Module):\n{body}\n"


def _import_line(name: str, value) -> str:
    if name in _FIXED_GLOBALS:
        return _FIXED_GLOBALS[name]
    if isinstance(value, types.ModuleType):
        return f"import {value.__name__} as {name}" if value.__name__ != name else f"import {name}"
    if isinstance(value, float) and (math.isinf(value) or math.isnan(value)):
        return f"{name} = float({str(value)!r})"
    if callable(value) and getattr(value, "__module__", None) and "<" not in getattr(value, "__qualname__", "<"):
        if value.__module__ == "builtins":
            return "" if value.__qualname__ == name else f"{name} = {value.__qualname__}"
        return f"from {value.__module__} import {value.__qualname__} as {name}"
    raise CheckpointError(f"cannot emit code that refers to {name} = {value!r}")


def module_from_source(
    source: str,
    tensors: dict[str, torch.Tensor],
    parameter_names: set[str],
    modules: dict[str, dict | str] | None = None,
) -> torch.nn.Module:
    """Execute emitted source, rebuild the submodules it calls (`modules`: path -> manifest entry, see
    `rewrite.callable_modules`) from their tensors, and attach the other `tensors` at their dotted paths."""
    namespace: dict = {"__name__": "gpt_oss_rewrite_emitted"}
    exec(compile(source, "<emitted module.py>", "exec"), namespace)
    module = namespace[CLASS_NAME]()
    remaining = dict(tensors)
    for path, entry in (modules or {}).items():
        prefix = f"{path}."
        state = {name.removeprefix(prefix): remaining.pop(name) for name in list(remaining) if name.startswith(prefix)}
        parent, _, name = path.rpartition(".")
        _owner(module, parent).add_module(name, callable_modules.build(path, entry, state))
    for qualified_name, tensor in remaining.items():
        owner_path, _, attribute = qualified_name.rpartition(".")
        owner = _owner(module, owner_path)
        if qualified_name in parameter_names:
            owner.register_parameter(attribute, torch.nn.Parameter(tensor, requires_grad=tensor.is_floating_point()))
        else:
            owner.register_buffer(attribute, tensor)
    return module


def _owner(module: torch.nn.Module, path: str) -> torch.nn.Module:
    """The submodule at dotted `path`, creating empty modules on the way."""
    for part in path.split(".") if path else []:
        if not hasattr(module, part):
            module.add_module(part, torch.nn.Module())
        module = getattr(module, part)
    return module
