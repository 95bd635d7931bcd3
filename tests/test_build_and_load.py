"""`build` writes a checkpoint that transformers and `rewrite.load` both read; `load` matches HF eager."""

import json

import torch
from transformers import GptOssForCausalLM

from rewrite import load
from rewrite.check import check_checkpoint
from rewrite.cli import main
from rewrite.spec import pad_aware_position_ids


def test_capture_only_checkpoint_checks_within_1e5_of_transformers(tiny_checkpoint):
    comparison = check_checkpoint(tiny_checkpoint)
    assert comparison.passed and comparison.tolerance == 1e-5
    assert "hidden_state_4" in comparison.layer_errors


def test_checkpoint_is_a_transformers_checkpoint(tiny_checkpoint, tiny_model):
    reloaded = GptOssForCausalLM.from_pretrained(tiny_checkpoint)
    ours = reloaded.state_dict()
    assert ours.keys() == tiny_model.state_dict().keys()
    for name, theirs in tiny_model.state_dict().items():
        assert torch.equal(theirs, ours[name]), name


def test_loaded_forward_gives_logits_for_left_padded_sequences(tiny_checkpoint, tiny_model):
    model = load(tiny_checkpoint)
    ids = torch.randint(3, 512, (2, 11))
    mask = torch.ones_like(ids)
    mask[1, :5] = 0
    logits = model(ids, mask)
    assert logits.shape == (2, 11, 512)
    expected = tiny_model(input_ids=ids, attention_mask=mask, position_ids=pad_aware_position_ids(mask)).logits
    torch.testing.assert_close(logits[mask.bool()], expected[mask.bool()], atol=1e-5, rtol=0)


def test_manifest_records_source_versions_passes_and_hash(tiny_checkpoint):
    manifest = json.loads((tiny_checkpoint / "manifest.json").read_text())
    assert manifest["source"] == {"preset": "tiny", "dtype": "float32"}
    assert set(manifest["created_by"]) == {"gpt_oss_rewrite", "torch", "transformers"}
    assert [entry["pass_name"] for entry in manifest["passes"]] == ["linear_modules", "embedding_module",
                                                                    "layer_modules"]
    assert manifest["roles"] == {"embedding": "model.embed_tokens", "lm_head": "lm_head",
                                 "layers": [f"model.layers.{index}" for index in range(4)]}
    assert manifest["format_version"] == 2
    assert len(manifest["graph_hash"]) == 64
    assert "model.safetensors" in manifest["files"]


def test_cli_check_json_and_inspect(tiny_checkpoint, capsys):
    assert main(["check", str(tiny_checkpoint), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] and result["max_error"] <= 1e-5
    assert main(["inspect", str(tiny_checkpoint)]) == 0
    assert "layer_modules: matched 4, replaced 4" in capsys.readouterr().out


def test_cli_check_exits_1_over_tolerance(tiny_checkpoint, capsys):
    assert main(["check", str(tiny_checkpoint), "--tolerance", "1e-12"]) == 1
    assert "FAIL" in capsys.readouterr().out
