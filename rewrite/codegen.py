"""Turn a graph module into a standalone Python source file and back into a module.

The source defines one `torch.nn.Module` subclass whose `forward` is torch.fx's generated code, and one
class per distinct code of the GraphModules it calls (the layer modules: layers of one structure share a
class), which its `__init__` installs at their paths. Imports are derived from the code's globals: modules,
functions by qualified name, and the modules that register the custom op namespaces the code calls
(`torch.ops.<namespace>`).
"""

from __future__ import annotations

import hashlib
import math
import re
import sys
import types

import torch

from . import callable_modules
from .errors import CheckpointError

CLASS_NAME = "RewrittenGptOssGraph"

# Custom op namespaces and the module whose import registers them.
OP_NAMESPACE_MODULES = {
    "gpt_oss_rewrite": "rewrite.marks",
}

_FIXED_GLOBALS = {
    "inf": "from math import inf",
    "nan": "from math import nan",
    "NoneType": "NoneType = type(None)",
    "device": "from torch import device",
}


def module_source(graph_module: torch.fx.GraphModule, header: str) -> str:
    imports = ["import torch"]
    classes: dict[str, str] = {}  # class name -> its body, each class after the classes it calls
    _define_class(graph_module, CLASS_NAME, classes, imports)
    unique_imports = list(dict.fromkeys(line for line in imports if line))
    definitions = [f"class {name}(torch.nn.Module):\n{body}\n" for name, body in classes.items()]
    return f'"""{header}"""\n\n' + "\n".join(unique_imports) + "\n\n\n" + "\n\n".join(definitions)


def _define_class(
    graph_module: torch.fx.GraphModule, name: str, classes: dict[str, str], imports: list[str]
) -> str:
    """Add the class of `graph_module`, after those of the GraphModules it calls, to `classes`; returns the
    name of the class, which is an existing one's when a class with the same body is already defined."""
    called = {node.target: graph_module.get_submodule(node.target)
              for node in graph_module.graph.nodes if node.op == "call_module"}
    called_classes = {path: _define_class(module, type(module).__name__, classes, imports)
                      for path, module in called.items() if isinstance(module, torch.fx.GraphModule)}
    code = graph_module.graph.python_code(root_module="self")
    for global_name, value in sorted(code.globals.items()):
        imports.append(_import_line(global_name, value))
    for namespace in sorted(set(re.findall(r"torch\.ops\.(\w+)\.", code.src))):
        if namespace != "aten":
            if namespace not in OP_NAMESPACE_MODULES:
                raise CheckpointError(f"no module is known to register torch.ops.{namespace}")
            imports.append(f"import {OP_NAMESPACE_MODULES[namespace]}  # registers torch.ops.{namespace}")
    body = _constructor(called_classes) + "\n".join(
        "    " + line if line.strip() else "" for line in code.src.strip("\n").splitlines()
    )
    for existing_name, existing_body in classes.items():
        if existing_body == body:
            return existing_name
    unique_name, number = name, 0
    while unique_name in classes:
        number += 1
        unique_name = f"{name}_{number}"
    classes[unique_name] = body
    return unique_name


def _constructor(called_classes: dict[str, str]) -> str:
    """`__init__` installing an instance of each called class at its dotted path (containers on the way)."""
    if not called_classes:
        return ""
    lines = ["    def __init__(self):", "        super().__init__()"]
    containers = {""}
    for path, class_name in called_classes.items():
        parts = path.split(".")
        for depth in range(1, len(parts)):
            container = ".".join(parts[:depth])
            if container not in containers:
                owner, name = _owner_code(parts[: depth - 1]), parts[depth - 1]
                lines.append(f"        {owner}.add_module({name!r}, torch.nn.Module())")
                containers.add(container)
        lines.append(f"        {_owner_code(parts[:-1])}.add_module({parts[-1]!r}, {class_name}())")
    return "\n".join(lines) + "\n\n"


def _owner_code(parts: list[str]) -> str:
    return f"self.get_submodule({'.'.join(parts)!r})" if parts else "self"


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
    emitted = _emitted_module(source)
    module = getattr(emitted, CLASS_NAME)()
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


def _emitted_module(source: str) -> types.ModuleType:
    """The source executed as a module registered in `sys.modules` under a name of its hash: torch.compile
    imports the module of every function it inlines by that name."""
    name = f"gpt_oss_rewrite_emitted_{hashlib.sha256(source.encode()).hexdigest()[:16]}"
    if name not in sys.modules:
        emitted = types.ModuleType(name)
        exec(compile(source, f"<emitted module.py {name}>", "exec"), emitted.__dict__)
        sys.modules[name] = emitted
    return sys.modules[name]


def _owner(module: torch.nn.Module, path: str) -> torch.nn.Module:
    """The submodule at dotted `path`, creating empty modules on the way."""
    for part in path.split(".") if path else []:
        if not hasattr(module, part):
            module.add_module(part, torch.nn.Module())
        module = getattr(module, part)
    return module
