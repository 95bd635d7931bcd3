"""`rewrite build --quantize mxfp4`: experts stay MXFP4, built streaming; the build equals transformers' eager model
on the same dequantized weights, keeps a released checkpoint's blocks and scales bit for bit, and is itself a
transformers MXFP4 checkpoint in OpenAI's layout."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import GptOssForCausalLM, Mxfp4Config

from rewrite import PassError, build, load
from rewrite.check import check_checkpoint
from rewrite.tensor_files import transformers_tensors
from runtime.ops.mxfp4_experts import MXFP4Experts
from tests.test_mxfp4_checkpoint import mxfp4_checkpoint  # noqa: F401  (the fixture: the released layout)

PACKED = ("mlp.experts.gate_up_proj_blocks", "mlp.experts.gate_up_proj_scales", "mlp.experts.down_proj_blocks",
          "mlp.experts.down_proj_scales")


@pytest.fixture(scope="module")
def preset_build(tmp_path_factory):
    return build(tmp_path_factory.mktemp("mxfp4") / "tiny-mxfp4", preset="tiny", quantize="mxfp4")


def test_the_tiny_build_checks_within_1e5_of_transformers_on_the_dequantized_weights(preset_build):
    comparison = check_checkpoint(preset_build)
    assert comparison.passed and comparison.max_error < 1e-5
    assert comparison.quantization_error is None, "a streamed preset has no original weights to compare with"


def test_the_build_calls_mxfp4_experts_and_stores_only_their_packed_form(preset_build):
    model = load(preset_build)
    experts = [module for module in model.graph_module.modules() if isinstance(module, MXFP4Experts)]
    assert len(experts) == 4 and all(module.gate_up_proj.dtype == torch.uint8 for module in experts)
    with transformers_tensors(preset_build) as files:
        names = files.names()
    assert {f"model.layers.0.{suffix}" for suffix in PACKED} <= names
    assert not any(name.endswith(("experts.gate_up_proj", "experts.down_proj")) for name in names)
    config = json.loads((preset_build / "config.json").read_text())
    assert config["quantization_config"]["quant_method"] == "mxfp4"
    assert model.manifest["quantization"]["method"] == "mxfp4"


def test_transformers_reads_the_build_as_released_mxfp4_weights(preset_build):
    ours = load(preset_build)
    # dequantized by transformers' own code: where the `kernels` package is installed transformers would fetch its
    # MXFP4 kernels from the Hub instead, which CI cannot reach
    theirs = GptOssForCausalLM.from_pretrained(preset_build, attn_implementation="eager", dtype=torch.float32,
                                               quantization_config=Mxfp4Config(dequantize=True)).eval()
    ids = torch.randint(3, 512, (2, 9), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(ours(ids), theirs(ids).logits, atol=1e-4, rtol=1e-4)


def test_a_released_checkpoint_keeps_its_blocks_and_scales_bit_for_bit(mxfp4_checkpoint, tmp_path):  # noqa: F811
    out = build(tmp_path / "out", checkpoint=mxfp4_checkpoint, quantize="mxfp4", dtype=torch.bfloat16)
    with transformers_tensors(mxfp4_checkpoint) as source, transformers_tensors(out) as built:
        packed = sorted(name for name in source.names() if name.endswith(PACKED))
        assert len(packed) == 16
        for name in packed:
            assert torch.equal(source.read(name), built.read(name)), name
    assert check_checkpoint(out).passed


def test_mxfp4_without_grouped_experts_says_which_pass_it_needs(tmp_path):
    with pytest.raises(PassError, match="run it after moe_grouped"):
        build(tmp_path / "out", preset="tiny", quantize="mxfp4", passes="flex_sink")
    assert not (tmp_path / "out").exists() and not list(tmp_path.iterdir()), "nothing is left behind"
