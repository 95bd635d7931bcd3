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


# Module classes an emitted graph may call (`call_module`); anything else is refused on load.
CALLABLE_MODULES = {"Linear": torch.nn.Linear}


def module_from_source(
    source: str, tensors: dict[str, torch.Tensor], parameter_names: set[str], modules: dict[str, str] | None = None
) -> torch.nn.Module:
    """Execute emitted source, create the submodules it calls (`modules`: path -> class name), and attach
    `tensors` at their dotted attribute paths."""
    namespace: dict = {"__name__": "gpt_oss_rewrite_emitted"}
    exec(compile(source, "<emitted module.py>", "exec"), namespace)
    module = namespace[CLASS_NAME]()
    for path, class_name in (modules or {}).items():
        if class_name not in CALLABLE_MODULES:
            raise CheckpointError(f"checkpoint calls a {class_name} module at {path}, which this version cannot build")
        weight = tensors[f"{path}.weight"]
        linear = CALLABLE_MODULES[class_name](weight.shape[1], weight.shape[0], bias=f"{path}.bias" in tensors,
                                              device="meta")
        _owner(module, path.rpartition(".")[0]).add_module(path.rpartition(".")[2], linear)
    for qualified_name, tensor in tensors.items():
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
