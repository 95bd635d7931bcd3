"""The checkpoint manifest: what was built, from what, by which versions, and how to check the files."""

from __future__ import annotations

import hashlib
import json
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch
import transformers

from .errors import CheckpointError, QuantizationError
from .manifest_schema import validate_manifest

FORMAT = "gpt-oss-rewrite-checkpoint"
FORMAT_VERSION = 2  # 2: module roles; called modules by qualified class name; one attention op family
MANIFEST_NAME = "manifest.json"
MODULE_NAME = "module.py"
GRAPH_TENSORS_NAME = "graph_tensors.safetensors"
GRAPH_STRUCTURE_NAME = "graph.json"
BITSANDBYTES_4BIT = "bitsandbytes-4bit"
MXFP4_METHOD = "mxfp4"
QUANTIZATION_METHODS = (BITSANDBYTES_4BIT, MXFP4_METHOD)  # the manifest's "quantization"."method" values `load` reads


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
    """The manifest of checkpoint `directory`, its schema validated; `CheckpointError` for anything else."""
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
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} manifest; rebuild the checkpoint with `rewrite build`")
    written = manifest.get("format_version")
    if written != FORMAT_VERSION:
        built_by = manifest.get("created_by")
        version_hint = built_by.get("gpt_oss_rewrite") if isinstance(built_by, dict) else None
        raise CheckpointError(
            f"checkpoint format version {written!r} is not supported by this gpt-oss-rewrite "
            f"(reads version {FORMAT_VERSION}); rebuild it with `rewrite build` or install the version "
            f"that wrote it ({version_hint or 'unknown'})"
        )
    return validate_manifest(manifest, path)


def check_compatible(manifest: dict, known_passes: set[str]) -> None:
    """Refuse what this installation cannot honour in a validated manifest, saying what to do instead."""
    built_torch = manifest["created_by"]["torch"]
    if _major_minor(built_torch) > _major_minor(torch.__version__):
        raise CheckpointError(
            f"checkpoint was built with torch {built_torch}, newer than the installed torch "
            f"{torch.__version__}; its generated code may call ops this torch lacks. Upgrade torch or rebuild."
        )
    unknown = [entry["pass_name"] for entry in manifest["passes"] if entry["pass_name"] not in known_passes]
    if unknown:
        raise CheckpointError(
            f"checkpoint was built with passes this installation does not know: {', '.join(unknown)}; "
            "upgrade gpt-oss-rewrite or rebuild the checkpoint"
        )
    quantization = manifest.get("quantization")
    if quantization is not None and quantization["method"] not in QUANTIZATION_METHODS:
        raise QuantizationError(
            f"checkpoint weights are quantized with {quantization['method']!r}, which this gpt-oss-rewrite cannot "
            f"read (it reads {', '.join(QUANTIZATION_METHODS)}); rebuild it with `rewrite build --quantize nf4|mxfp4`, "
            "or without --quantize"
        )


def _major_minor(text: str) -> tuple[int, int]:
    major, minor = re.match(r"(\d+)\.(\d+)", text).groups()  # the schema checked the form
    return int(major), int(minor)
