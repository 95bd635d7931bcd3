"""`rewrite export`: a trained adapter, merged into a transformers checkpoint or kept as a peft adapter, gives
transformers' model the logits of the rewritten model carrying it; the base is found or named; bad paths are refused
in one line."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import torch
from peft import PeftModel
from safetensors.torch import save_file
from transformers import AutoTokenizer, GptOssForCausalLM

from rewrite import load, load_tokenizer
from rewrite.cli import main
from rewrite.spec import pad_aware_position_ids
from rewrite.tensor_files import read_tensor_file
from rewrite.transformers_model import transformers_model
from rewrite.verify import sample_batch
from runtime.export import export
from runtime.training_checkpoint import TrainingCheckpointError
from tests.scratch_copies import edit_json
from tests.trained_run import rewritten_with_adapter, train_two_steps

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "generation_config.json")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_two_steps(tmp_path_factory.mktemp("export-float32"))


@pytest.fixture(scope="module")
def trained_nf4(tmp_path_factory):
    return train_two_steps(tmp_path_factory.mktemp("export-nf4"), quantize="nf4")


@pytest.fixture(params=["trained", "trained_nf4"], ids=["float32-build", "nf4-build"])
def any_trained(request):
    """Either run: on a 4-bit build, transformers' model is that of the build's dequantized weights."""
    return request.getfixturevalue(request.param)


def assert_same_logits(ours, reference, spec, tolerance=1e-5):
    """Logits on a left-padded batch (prompts longer than the sliding window) agree at every real token, the
    error scaled by max(1, max |transformers|) as `rewrite check` scales it."""
    batch = sample_batch(spec, "cpu", decode_steps=0)
    with torch.no_grad():
        expected = reference(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                                      position_ids=pad_aware_position_ids(batch.attention_mask)).logits
        actual = ours(batch.input_ids, batch.attention_mask)
    real = batch.attention_mask.bool()
    error = (actual[real] - expected[real]).abs().max() / max(1.0, expected[real].abs().max().item())
    assert error < tolerance, f"scaled max error {error:.2e}"


def test_the_adapter_changes_the_model(any_trained):
    base, checkpoint, config = any_trained
    ours = rewritten_with_adapter(base, checkpoint, config)
    batch = sample_batch(ours.spec, "cpu", decode_steps=0)
    with torch.no_grad():
        adapted = ours(batch.input_ids, batch.attention_mask)
        plain = load(base)(batch.input_ids, batch.attention_mask)
    assert (adapted - plain).abs().max() > 1e-3, "two steps at this learning rate move the adapter"


def test_a_merged_float32_export_loads_on_transformers_with_the_logits_of_the_rewritten_model_and_adapter(
        any_trained, tmp_path):
    base, checkpoint, config = any_trained
    assert main(["export", str(checkpoint), "--out", str(tmp_path / "merged"), "--merged", "--dtype", "float32"]) == 0
    merged = GptOssForCausalLM.from_pretrained(tmp_path / "merged", dtype=torch.float32).eval()
    ours = rewritten_with_adapter(base, checkpoint, config)
    assert_same_logits(ours, merged, ours.spec)
    messages = [{"role": "user", "content": "two plus three"}]
    assert AutoTokenizer.from_pretrained(tmp_path / "merged").apply_chat_template(messages) == \
        load_tokenizer(base).apply_chat_template(messages), "the build's tokenizer and chat template come along"


def test_a_merged_export_is_bfloat16_by_default(trained, tmp_path):
    _, checkpoint, _ = trained
    export(checkpoint, tmp_path / "merged", merged=True)
    assert json.loads((tmp_path / "merged" / "config.json").read_text())["dtype"] == "bfloat16"
    weights = read_tensor_file(tmp_path / "merged" / "model.safetensors")
    assert {tensor.dtype for tensor in weights.values()} == {torch.bfloat16}


def test_an_adapter_export_loads_with_peft_on_transformers_with_the_same_logits(any_trained, tmp_path):
    base, checkpoint, config = any_trained
    out = export(checkpoint, tmp_path / "adapter")
    assert {path.name for path in out.iterdir()} >= {"adapter_config.json", "adapter_model.safetensors",
                                                     *TOKENIZER_FILES}
    adapter_config = json.loads((out / "adapter_config.json").read_text())
    assert adapter_config["auto_mapping"]["base_model_class"] == "GptOssForCausalLM"
    adapted = PeftModel.from_pretrained(transformers_model(base), out).eval()
    ours = rewritten_with_adapter(base, checkpoint, config)
    assert_same_logits(ours, adapted, ours.spec)


def test_an_adapter_export_names_its_base_only_where_transformers_loads_all_of_its_weights(trained, trained_nf4,
                                                                                           tmp_path):
    for (base, checkpoint, _), named in ((trained, str(trained[0].resolve())), (trained_nf4, None)):
        out = export(checkpoint, tmp_path / base.parent.name)
        assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == named


def test_a_moved_base_is_named_in_the_error_and_found_with_base(trained, tmp_path):
    base, checkpoint, _ = trained
    moved = tmp_path / "moved-build"
    shutil.copytree(base, moved)
    run = shutil.copytree(checkpoint.parent, tmp_path / "run", ignore=shutil.ignore_patterns("base"))
    edit_json(run / "checkpoint-2" / "adapter_config.json",
              lambda config: config.update(base_model_name_or_path=str(tmp_path / "gone")))
    stale = r"cannot find the base build .*gone \(recorded by the run: no build there\).* Pass --base DIR"
    with pytest.raises(TrainingCheckpointError, match=stale):
        export(run / "checkpoint-2", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert export(run / "checkpoint-2", tmp_path / "out", base=moved).is_dir()


def test_the_preset_base_inside_the_run_directory_is_found(trained, tmp_path):
    base, checkpoint, _ = trained
    run = shutil.copytree(checkpoint.parent, tmp_path / "run")
    shutil.copytree(base, run / "base")
    edit_json(run / "checkpoint-2" / "adapter_config.json",
              lambda config: config.update(base_model_name_or_path=None))
    out = export(run / "checkpoint-2", tmp_path / "out")
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(
        (run / "base").resolve())


def test_an_existing_output_is_kept_without_force_and_replaced_with_it(trained, tmp_path):
    _, checkpoint, _ = trained
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    assert main(["export", str(checkpoint), "--out", str(tmp_path / "out")]) == 2
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
    export(checkpoint, tmp_path / "out", force=True)
    assert not (tmp_path / "out" / "keep.txt").exists() and (tmp_path / "out" / "adapter_model.safetensors").is_file()
    assert [path.name for path in tmp_path.iterdir()] == ["out"], "no staging directory is left behind"


def test_an_adapter_nested_the_other_way_round_is_refused_before_anything_is_written(trained, tmp_path):
    _, checkpoint, _ = trained
    broken = shutil.copytree(checkpoint, tmp_path / "checkpoint-2")
    weights = read_tensor_file(broken / "adapter_model.safetensors")
    swapped = {name.replace("experts.lora_", "experts.@").replace("experts.base_layer.lora_", "experts.lora_")
               .replace("experts.@", "experts.base_layer.lora_"): tensor for name, tensor in weights.items()}
    save_file(swapped, broken / "adapter_model.safetensors")
    with pytest.raises(TrainingCheckpointError, match=r"does not fit transformers' GptOssForCausalLM .*peft expects"):
        export(broken, tmp_path / "out", merged=True)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("make_path, message", [
    (lambda tmp_path: tmp_path / "nowhere", "is not a directory"),
    (lambda tmp_path: tmp_path, "is not a training checkpoint .*RUN/checkpoint-N"),
], ids=["missing", "empty-directory"])
def test_a_path_that_is_not_a_checkpoint_gets_one_line_and_exit_2(tmp_path, capsys, make_path, message):
    assert main(["export", str(make_path(tmp_path)), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("rewrite export: error: ")
    assert re.search(message, error)


def test_a_run_directory_is_refused_with_its_newest_checkpoint_named(trained, tmp_path):
    _, checkpoint, _ = trained
    with pytest.raises(TrainingCheckpointError, match="it is a run directory; .*checkpoint-2"):
        export(checkpoint.parent, tmp_path / "out")
