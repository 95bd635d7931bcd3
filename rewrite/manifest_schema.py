"""The manifest's schema: every field `load`, `check` and `inspect` read, checked before any of them is used.

`validate_manifest(manifest, path)` raises `CheckpointError` naming the first field that is missing, of the wrong
type, or unexpected (a pass entry with a key the pass report does not have), so a hand-edited or damaged manifest
is refused with a message instead of failing later with a KeyError deep in the loader. It checks shapes, not
meaning: the format version, the torch version and the pass names are judged by `manifest.check_compatible`.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import torch

from .errors import CheckpointError
from .graph_pass import PassReport
from .module_roles import ROLE_NAMES
from .spec import GraphSpec

_VERSION = re.compile(r"^\d+\.\d+")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TOP_LEVEL = {
    "format": str, "format_version": int, "created_by": dict, "source": dict, "spec": dict, "passes": list,
    "graph_hash": str, "tensors": dict, "modules": dict, "roles": dict, "runtime": dict, "files": dict,
}
_PASS_FIELDS = {field.name for field in dataclasses.fields(PassReport)}
_TENSOR_LISTS = ("parameters", "from_transformers", "graph_only")


class _Fields:
    """Checks on one manifest, each raising with the manifest's path and the field's dotted name."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, field: str, problem: str) -> None:
        raise CheckpointError(
            f"{self.path}: {field} {problem}; the manifest is damaged or was edited by hand: rebuild the checkpoint "
            "with `rewrite build`"
        )

    def typed(self, value: object, field: str, expected: type | tuple[type, ...]) -> None:
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            names = " or ".join(kind.__name__ for kind in (expected if isinstance(expected, tuple) else (expected,)))
            self.fail(field, f"is {type(value).__name__}, expected {names}")

    def keys(self, value: dict, field: str, required: set[str], allowed: set[str] | None = None) -> None:
        missing = sorted(required - value.keys())
        if missing:
            self.fail(field, f"lacks {', '.join(missing)}")
        extra = sorted(value.keys() - (allowed if allowed is not None else required))
        if extra:
            self.fail(field, f"has unexpected keys {', '.join(extra)}")

    def strings(self, value: object, field: str) -> None:
        self.typed(value, field, list)
        for index, item in enumerate(value):
            self.typed(item, f"{field}[{index}]", str)


def validate_manifest(manifest: object, path: Path) -> dict:
    """`manifest` if it has the schema this version writes; raises `CheckpointError` otherwise."""
    fields = _Fields(path)
    fields.typed(manifest, "the manifest", dict)
    fields.keys(manifest, "the manifest", set(_TOP_LEVEL), set(_TOP_LEVEL) | {"quantization"})
    for name, expected in _TOP_LEVEL.items():
        fields.typed(manifest[name], name, expected)
    _created_by(fields, manifest["created_by"])
    _spec(fields, manifest["spec"])
    for index, entry in enumerate(manifest["passes"]):
        fields.typed(entry, f"passes[{index}]", dict)
        fields.keys(entry, f"passes[{index}]", _PASS_FIELDS)
        fields.typed(entry["pass_name"], f"passes[{index}].pass_name", str)
    fields.keys(manifest["tensors"], "tensors", {*_TENSOR_LISTS, "stored_as"})
    for name in _TENSOR_LISTS:
        fields.strings(manifest["tensors"][name], f"tensors.{name}")
    fields.typed(manifest["tensors"]["stored_as"], "tensors.stored_as", dict)
    for name, stored in manifest["tensors"]["stored_as"].items():
        fields.typed(stored, f"tensors.stored_as.{name}", str)
    for module_path, entry in manifest["modules"].items():
        fields.typed(entry, f"modules.{module_path}", dict)
        fields.keys(entry, f"modules.{module_path}", {"class", "config"})
        fields.typed(entry["class"], f"modules.{module_path}.class", str)
        fields.typed(entry["config"], f"modules.{module_path}.config", dict)
    _roles(fields, manifest["roles"])
    quantization = manifest.get("quantization")
    if quantization is not None:
        fields.typed(quantization, "quantization", dict)
        fields.typed(quantization.get("method"), "quantization.method", str)
        fields.strings(quantization.get("modules"), "quantization.modules")
    for name, digest in manifest["files"].items():
        fields.typed(digest, f"files.{name}", dict)
        fields.keys(digest, f"files.{name}", {"bytes", "sha256"})
        fields.typed(digest["bytes"], f"files.{name}.bytes", int)
        if not isinstance(digest["sha256"], str) or not _SHA256.match(digest["sha256"]):
            fields.fail(f"files.{name}.sha256", "is not a sha256 hex digest")
        if Path(name).name != name:
            fields.fail(f"files.{name}", "names a file outside the checkpoint directory")
    return manifest


def _created_by(fields: _Fields, created_by: dict) -> None:
    fields.keys(created_by, "created_by", {"gpt_oss_rewrite", "torch", "transformers"})
    for name in ("gpt_oss_rewrite", "torch", "transformers"):
        fields.typed(created_by[name], f"created_by.{name}", str)
    for name in ("torch", "transformers"):
        if not _VERSION.match(created_by[name]):
            fields.fail(f"created_by.{name}", f"is {created_by[name]!r}, not a version such as 2.11.0")


def _spec(fields: _Fields, spec: dict) -> None:
    names = {field.name for field in dataclasses.fields(GraphSpec)}
    fields.keys(spec, "spec", names)
    for name in names - {"layer_types", "dtype"}:
        fields.typed(spec[name], f"spec.{name}", int)
    fields.strings(spec["layer_types"], "spec.layer_types")
    fields.typed(spec["dtype"], "spec.dtype", str)
    if not isinstance(getattr(torch, spec["dtype"], None), torch.dtype):
        fields.fail("spec.dtype", f"is {spec['dtype']!r}, not a torch dtype")
    if len(spec["layer_types"]) != spec["num_layers"]:
        fields.fail("spec.layer_types", f"has {len(spec['layer_types'])} entries for {spec['num_layers']} layers")


def _roles(fields: _Fields, roles: dict) -> None:
    fields.keys(roles, "roles", set(ROLE_NAMES))
    fields.typed(roles["embedding"], "roles.embedding", str)
    fields.typed(roles["lm_head"], "roles.lm_head", str)
    fields.strings(roles["layers"], "roles.layers")
