"""A damaged or hand-edited manifest is refused by `load`, `check` and `inspect` with a message naming the field,
never a traceback; `inspect` checks the files too."""

from __future__ import annotations

import json
import re

import pytest

from rewrite import CheckpointError, load
from rewrite.cli import main
from tests.scratch_copies import edit_json, scratch_copy


@pytest.fixture()
def checkpoint_copy(tiny_checkpoint, tmp_path):
    return scratch_copy(tiny_checkpoint, tmp_path)


def _replace_manifest(directory, value) -> None:
    (directory / "manifest.json").write_text(json.dumps(value))


def _add_extra_key_to_first_pass(manifest: dict) -> None:
    manifest["passes"][0]["speedup"] = 3


MALFORMED = {
    "a JSON list": (lambda d: _replace_manifest(d, ["format", "gpt-oss-rewrite-checkpoint"]),
                    "is not a gpt-oss-rewrite-checkpoint manifest"),
    "no files": (lambda d: edit_json(d / "manifest.json", lambda m: m.pop("files")), "the manifest lacks files"),
    "no spec": (lambda d: edit_json(d / "manifest.json", lambda m: m.pop("spec")), "the manifest lacks spec"),
    "garbled torch version": (
        lambda d: edit_json(d / "manifest.json", lambda m: m["created_by"].update(torch="banana")),
        "created_by.torch is 'banana', not a version"),
    "a pass entry with an extra key": (
        lambda d: edit_json(d / "manifest.json", _add_extra_key_to_first_pass),
        r"passes\[0\] has unexpected keys speedup"),
    "roles that are not a mapping": (
        lambda d: edit_json(d / "manifest.json", lambda m: m.update(roles=["lm_head"])),
        "roles is list, expected dict"),
    "a spec field of the wrong type": (
        lambda d: edit_json(d / "manifest.json", lambda m: m["spec"].update(num_layers="four")),
        "spec.num_layers is str, expected int"),
    "a file outside the directory": (
        lambda d: edit_json(d / "manifest.json", lambda m: m["files"].update({"../x": m["files"]["module.py"]})),
        r"files.../x names a file outside the checkpoint directory"),
    "a digest that is not sha256": (
        lambda d: edit_json(d / "manifest.json", lambda m: m["files"]["module.py"].update(sha256="abc")),
        "files.module.py.sha256 is not a sha256 hex digest"),
    "a file it reads left out of the list": (
        lambda d: edit_json(d / "manifest.json", lambda m: m["files"].pop("module.py")),
        "manifest does not list module.py, which loading reads"),
    "format 1 (before module roles)": (
        lambda d: edit_json(d / "manifest.json", lambda m: m.update(format_version=1)),
        "format version 1 is not supported by this gpt-oss-rewrite .reads version 2.; rebuild it"),
}


@pytest.mark.parametrize("damage", sorted(MALFORMED))
def test_load_refuses_a_malformed_manifest_naming_the_field(checkpoint_copy, damage):
    make_damage, message = MALFORMED[damage]
    make_damage(checkpoint_copy)
    with pytest.raises(CheckpointError, match=message):
        load(checkpoint_copy)


@pytest.mark.parametrize("command", ["check", "inspect"])
@pytest.mark.parametrize("damage", ["a JSON list", "no files", "no spec", "garbled torch version",
                                    "a pass entry with an extra key"])
def test_check_and_inspect_print_the_message_and_exit_2(checkpoint_copy, capsys, command, damage):
    make_damage, message = MALFORMED[damage]
    make_damage(checkpoint_copy)
    assert main([command, str(checkpoint_copy)]) == 2
    error = capsys.readouterr().err
    assert f"rewrite {command}: error: " in error
    assert "Traceback" not in error
    assert re.search(message, error)


def test_inspect_refuses_a_truncated_weight_file(checkpoint_copy, capsys):
    weights = checkpoint_copy / "graph_tensors.safetensors"
    weights.write_bytes(weights.read_bytes()[:-10])
    assert main(["inspect", str(checkpoint_copy)]) == 2
    assert "graph_tensors.safetensors has" in capsys.readouterr().err


def test_inspect_with_checksums_finds_a_changed_byte(checkpoint_copy, capsys):
    module = checkpoint_copy / "module.py"
    module.write_text(module.read_text().replace("torch", "TORCH", 1))
    assert main(["inspect", str(checkpoint_copy)]) == 0
    capsys.readouterr()
    assert main(["inspect", "--verify-checksums", str(checkpoint_copy)]) == 2
    assert "module.py is corrupt" in capsys.readouterr().err


def test_inspect_shows_the_roles_and_the_passes(tiny_checkpoint, capsys):
    assert main(["inspect", str(tiny_checkpoint)]) == 0
    out = capsys.readouterr().out
    assert "roles        embedding model.embed_tokens, 4 layers, lm_head lm_head" in out
    assert "linear_modules: matched" in out and "layer_modules: matched" in out
