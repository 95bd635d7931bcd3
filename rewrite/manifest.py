"""The checkpoint manifest: what was built, from what, by which versions, and how to check the files."""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch
import transformers

from .errors import CheckpointError, QuantizationError

FORMAT = "gpt-oss-rewrite-checkpoint"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
MODULE_NAME = "module.py"
GRAPH_TENSORS_NAME = "graph_tensors.safetensors"
GRAPH_STRUCTURE_NAME = "graph.json"
BITSANDBYTES_4BIT = "bitsandbytes-4bit"
QUANTIZATION_METHODS = (BITSANDBYTES_4BIT,)  # the manifest's "quantization"."method" values `load` reads


def package_version() -> str:
    try:
        return version("gpt-oss-rewrite")
    except PackageNotFoundError:
        return "unknown"


def current_versions() -> dict[str, str]:
    return {"gpt_oss_rewrite": package_version(), "torch": torch.__version__, "transformers": transformers.__version__}


def file_digest(path: Path) -> dict:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            sha.update(block)
    return {"bytes": path.stat().st_size, "sha256": sha.hexdigest()}


def read_manifest(directory: Path) -> dict:
    path = directory / MANIFEST_NAME
    if not directory.is_dir():
        raise CheckpointError(f"{directory} is not a directory; pass a directory written by `rewrite build`")
    if not path.is_file():
        raise CheckpointError(
            f"{directory} is not a gpt-oss-rewrite checkpoint (no {MANIFEST_NAME}); "
            f"build one with `rewrite build --checkpoint {directory} --out OUT`"
        )
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{path} is not valid JSON ({error}); rebuild the checkpoint") from error
    if manifest.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} manifest; rebuild the checkpoint with `rewrite build`")
    return manifest


def check_compatible(manifest: dict, known_passes: set[str]) -> None:
    """Refuse what this installation cannot honour, saying what to do instead."""
    written = manifest.get("format_version")
    if written != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint format version {written} is not supported by this gpt-oss-rewrite "
            f"(reads version {FORMAT_VERSION}); rebuild it with `rewrite build` or install the version "
            f"that wrote it ({manifest.get('created_by', {}).get('gpt_oss_rewrite', 'unknown')})"
        )
    built_torch = manifest["created_by"]["torch"]
    if _major_minor(built_torch) > _major_minor(torch.__version__):
        raise CheckpointError(
            f"checkpoint was built with torch {built_torch}, newer than the installed torch "
            f"{torch.__version__}; its generated code may call ops this torch lacks. Upgrade torch or rebuild."
        )
    unknown = [entry["pass_name"] for entry in manifest.get("passes", []) if entry["pass_name"] not in known_passes]
    if unknown:
        raise CheckpointError(
            f"checkpoint was built with passes this installation does not know: {', '.join(unknown)}; "
            "upgrade gpt-oss-rewrite or rebuild the checkpoint"
        )
    method = (manifest.get("quantization") or {}).get("method")
    if manifest.get("quantization") is not None and method not in QUANTIZATION_METHODS:
        raise QuantizationError(
            f"checkpoint weights are quantized with {method!r}, which this gpt-oss-rewrite cannot read (it reads "
            f"{', '.join(QUANTIZATION_METHODS)}); rebuild it with `rewrite build --quantize nf4`, or without --quantize"
        )


def _major_minor(text: str) -> tuple[int, int]:
    major, minor = text.split("+")[0].split(".")[:2]
    return int(major), int(minor)
