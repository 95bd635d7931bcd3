"""Every bad input gets a clear message that says what to do, and loses nothing."""

import json
import os
import subprocess
import sys

import pytest
import torch

from rewrite import CheckpointError, InputError, PassError, UnsupportedModelError, build, load
from rewrite import emit as emit_module
from rewrite.cli import main
from rewrite.pipeline import resolve_pass_names
from tests.scratch_copies import edit_json, scratch_copy


@pytest.fixture()
def checkpoint_copy(tiny_checkpoint, tmp_path):
    return scratch_copy(tiny_checkpoint, tmp_path)


def _edit_manifest(directory, edit):
    edit_json(directory / "manifest.json", edit)


def test_load_refuses_a_directory_that_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="not a gpt-oss-rewrite checkpoint .*rewrite build"):
        load(tmp_path)


def test_load_refuses_a_missing_directory(tmp_path):
    with pytest.raises(CheckpointError, match="is not a directory"):
        load(tmp_path / "nowhere")


def test_load_refuses_an_unknown_format_version(checkpoint_copy):
    _edit_manifest(checkpoint_copy, lambda m: m.update(format_version=99))
    with pytest.raises(CheckpointError, match="format version 99 is not supported.*rebuild"):
        load(checkpoint_copy)


def test_load_refuses_a_checkpoint_from_a_newer_torch(checkpoint_copy):
    _edit_manifest(checkpoint_copy, lambda m: m["created_by"].update(torch="99.0.0"))
    with pytest.raises(CheckpointError, match="torch 99.0.0, newer than the installed torch"):
        load(checkpoint_copy)


def test_load_refuses_unknown_passes(checkpoint_copy):
    _edit_manifest(checkpoint_copy, lambda m: m["passes"].append({**m["passes"][0], "pass_name": "teleport"}))
    with pytest.raises(CheckpointError, match="passes this installation does not know: teleport"):
        load(checkpoint_copy)


def test_load_refuses_missing_weights(checkpoint_copy):
    (checkpoint_copy / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors is missing"):
        load(checkpoint_copy)


def test_load_refuses_truncated_weights(checkpoint_copy):
    path = checkpoint_copy / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointError, match="truncated"):
        load(checkpoint_copy)


def test_load_refuses_corrupt_weights_of_the_right_size(checkpoint_copy):
    path = checkpoint_copy / "model.safetensors"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load(checkpoint_copy)


def test_load_refuses_an_unreadable_safetensors_header(checkpoint_copy):
    path = checkpoint_copy / "graph_tensors.safetensors"
    size = path.stat().st_size
    path.write_bytes(b"\xff" * size)
    _edit_manifest(checkpoint_copy, lambda m: m["files"]["graph_tensors.safetensors"].update(sha256="0" * 64))
    with pytest.raises(CheckpointError, match="graph_tensors.safetensors is truncated or not safetensors"):
        load(checkpoint_copy, verify_checksums=False)


def test_build_refuses_an_unknown_model_type(tmp_path):
    source = tmp_path / "llama"
    source.mkdir()
    (source / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(UnsupportedModelError, match="holds a 'llama' model; gpt-oss-rewrite only"):
        build(tmp_path / "out", checkpoint=source, passes="none")


def test_build_refuses_a_directory_without_config(tmp_path):
    with pytest.raises(CheckpointError, match="no config.json"):
        build(tmp_path / "out", checkpoint=tmp_path, passes="none")


def test_build_refuses_an_unknown_preset_and_pass(tmp_path):
    with pytest.raises(UnsupportedModelError, match="unknown preset 'huge'"):
        build(tmp_path / "out", preset="huge", passes="none")
    with pytest.raises(PassError, match="unknown pass warp_drive"):
        resolve_pass_names("warp_drive")


def test_build_does_not_clobber_an_existing_output(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["build", "--preset", "tiny", "--passes", "none", "--out", str(out)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "mine"


def test_an_interrupted_build_leaves_nothing_behind(tmp_path, monkeypatch):
    def crash_after_weights(directory, *args, **kwargs):
        (directory / "model.safetensors").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(emit_module, "_write", crash_after_weights)
    with pytest.raises(KeyboardInterrupt):
        build(tmp_path / "out", preset="tiny", passes="none", verify=False)
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_an_existing_checkpoint_whole(tiny_checkpoint, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    build(out, preset="tiny", passes="none", force=True, verify=False)
    assert not (out / "stale.txt").exists() and (out / "manifest.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_forward_refuses_a_prompt_longer_than_the_context(tiny_checkpoint):
    model = load(tiny_checkpoint)
    too_long = model.spec.max_position_embeddings + 1
    with pytest.raises(InputError, match=f"{too_long} tokens is longer than the model's context"):
        model(torch.zeros(1, too_long, dtype=torch.long))


def test_forward_refuses_empty_and_misshapen_batches(tiny_checkpoint):
    model = load(tiny_checkpoint)
    with pytest.raises(InputError, match="empty batch"):
        model(torch.zeros(0, 4, dtype=torch.long))
    with pytest.raises(InputError, match="attention_mask shape"):
        model(torch.zeros(2, 4, dtype=torch.long), torch.ones(2, 5, dtype=torch.long))


@pytest.mark.parametrize(("arguments", "message"), [
    (["build", "--preset", "tiny", "--out", "X", "--device", "nosuchdevice"],
     "argument --device: 'nosuchdevice' is not a device: use cpu, cuda or cuda:N"),
    (["check", "D", "--decode-steps", "-1"], "argument --decode-steps: -1 is negative: pass 0 or more"),
])
def test_bad_option_values_are_usage_errors_that_say_what_to_pass(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(arguments)
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_training_into_a_file_is_refused_before_anything_is_built(tmp_path, capsys):
    output = tmp_path / "a-file"
    output.write_text("keep me")
    assert main(["train", "--preset", "tiny", "--task", "target-token", "--steps", "1", "--out", str(output)]) == 2
    assert f"{output} is a file, not a directory" in capsys.readouterr().err
    assert output.read_text() == "keep me"


def test_errors_of_the_judge_are_errors_of_the_toolkit():
    from rewrite import RewriteError
    from runtime.rewards import RewardsError

    assert issubclass(RewardsError, RewriteError)


def test_the_next_build_removes_what_a_killed_build_left_behind(tmp_path):
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()  # a pid that no longer runs
    leftover = tmp_path / f".out.partial-{killed.pid}-deadbeef"
    leftover.mkdir()
    (leftover / "model.safetensors").write_bytes(b"half written")
    running = tmp_path / f".out.partial-{os.getpid()}-cafecafe"  # a live writer's (this process's): kept
    running.mkdir()
    build(tmp_path / "out", preset="tiny", passes="none", verify=False)
    assert not leftover.exists() and running.exists()
