"""Module classes an emitted graph may call (`call_module`): how a checkpoint records them and rebuilds them.

The manifest's "modules" maps the path of each called submodule to `{"class": "package.module.ClassName",
"config": {...}}`. On load the class is imported, but only from `ALLOWED_PACKAGES`, so a checkpoint cannot make
`load` import arbitrary code, and rebuilt with `cls.from_state(config, state)`, where `state` holds the saved
tensors under the module's path (names relative to it). A class opts in with two methods:

    def emitted_config(self) -> dict                       # JSON arguments, beyond its tensors
    @classmethod
    def from_state(cls, config: dict, state: dict[str, Tensor]) -> nn.Module   # owns `state` afterwards

`torch.nn.Linear` and `torch.nn.Embedding`, which have neither, are handled here.
"""

from __future__ import annotations

import importlib

import torch

from .errors import CheckpointError

ALLOWED_PACKAGES = ("runtime.ops.",)
_LINEAR = "torch.nn.Linear"
_EMBEDDING = "torch.nn.Embedding"


def qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def is_callable_module(module: torch.nn.Module) -> bool:
    return type(module) in (torch.nn.Linear, torch.nn.Embedding) or hasattr(module, "emitted_config")


def describe(module: torch.nn.Module) -> dict:
    """The manifest entry of a called module."""
    if type(module) is torch.nn.Linear:
        return {"class": _LINEAR, "config": {}}
    if type(module) is torch.nn.Embedding:
        return {"class": _EMBEDDING, "config": {"padding_idx": module.padding_idx}}
    return {"class": qualified_name(type(module)), "config": module.emitted_config()}


def build(path: str, entry: dict, state: dict[str, torch.Tensor]) -> torch.nn.Module:
    """The module at `path` from its manifest entry (validated: "class" and "config") and its tensors;
    `CheckpointError` for classes we cannot build."""
    class_name = entry["class"]
    if class_name == _LINEAR:
        return _linear(path, state)
    if class_name == _EMBEDDING:
        return _embedding(path, entry["config"], state)
    cls = _allowed_class(path, class_name)
    try:
        return cls.from_state(entry["config"], state)
    except (KeyError, ValueError, TypeError) as error:
        raise CheckpointError(
            f"cannot rebuild the {class_name} module at {path}: {error}; rebuild the checkpoint"
        ) from error


def _allowed_class(path: str, class_name: object) -> type:
    if not isinstance(class_name, str) or not class_name.startswith(ALLOWED_PACKAGES):
        raise CheckpointError(f"checkpoint calls a {class_name} module at {path}, which this version cannot build")
    module_name, _, attribute = class_name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise CheckpointError(
            f"checkpoint calls a {class_name} module at {path}, which this installation lacks ({error}); "
            "upgrade gpt-oss-rewrite or rebuild the checkpoint"
        ) from error
    if not hasattr(cls, "from_state"):
        raise CheckpointError(f"{class_name} (at {path}) cannot be rebuilt from a checkpoint")
    return cls


def _linear(path: str, state: dict[str, torch.Tensor]) -> torch.nn.Linear:
    weight, bias = _saved_weight(path, "Linear", state), state.get("bias")
    linear = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, device="meta")
    linear.weight = torch.nn.Parameter(weight, requires_grad=weight.is_floating_point())
    if bias is not None:
        linear.bias = torch.nn.Parameter(bias, requires_grad=bias.is_floating_point())
    return linear


def _embedding(path: str, config: dict, state: dict[str, torch.Tensor]) -> torch.nn.Embedding:
    weight = _saved_weight(path, "Embedding", state)
    embedding = torch.nn.Embedding(*weight.shape, padding_idx=config.get("padding_idx"), device="meta")
    embedding.weight = torch.nn.Parameter(weight, requires_grad=weight.is_floating_point())
    return embedding


def _saved_weight(path: str, kind: str, state: dict[str, torch.Tensor]) -> torch.Tensor:
    if "weight" not in state:
        raise CheckpointError(f"the {kind} module at {path} has no saved weight; rebuild the checkpoint")
    return state["weight"]
