"""quantize_nf4: 4-bit attention projections and experts that compute exactly on their dequantized weights, stored
in safetensors at under 0.3 of the experts' bytes, checked against transformers on the dequantized weights.
(A source checkpoint quantized by bitsandbytes or gptq is refused in test_mxfp4_checkpoint.py.)"""

import json
import sys
from collections import Counter

import pytest
import torch

from passes import linear_modules, moe_grouped, quantize_nf4
from rewrite import PassError, load
from rewrite.cli import main
from rewrite.errors import QuantizationError
from rewrite.graphdiff import diff, to_networkx
from rewrite.tensor_files import read_tensor_file
from runtime.ops.four_bit import FourBitFormat, dequantize_stacked, dequantize_with_torch
from runtime.ops.grouped_experts import GroupedExperts
from runtime.ops.nf4_experts import NF4Experts
from runtime.ops.nf4_linear import NF4Linear
from tests.golden_files import assert_matches_golden
from tests.scratch_copies import edit_json, scratch_copy


def _module_classes(graph_module) -> dict[str, str]:
    return {path: type(module).__name__ for path, module in graph_module.named_modules()}


def test_quantize_nf4_golden_diff(tiny_graph, update_golden):
    moe_grouped.apply(tiny_graph)
    linear_modules.apply(tiny_graph)
    before, classes_before = to_networkx(tiny_graph), _module_classes(tiny_graph)
    report = quantize_nf4.apply(tiny_graph)
    assert report.matched == report.replaced == 20  # 4 layers x (q, k, v, o, experts)
    assert type(tiny_graph.get_submodule("model.layers.0.mlp.router")) is torch.nn.Linear, "the router stays"
    assert type(tiny_graph.get_submodule("lm_head")) is torch.nn.Linear, "lm_head stays"
    swaps = Counter(f"{classes_before[path]} -> {name}" for path, name in _module_classes(tiny_graph).items()
                    if classes_before[path] != name)
    text = diff(before, tiny_graph).summary() + "modules:\n" + "".join(
        f"{count:>6} x {swap}\n" for swap, count in sorted(swaps.items()))
    assert_matches_golden("quantize_nf4", text, update_golden)


def test_a_graph_without_linear_modules_or_grouped_experts_is_refused(tiny_graph):
    with pytest.raises(PassError, match="run it after linear_modules and moe_grouped"):
        quantize_nf4.apply(tiny_graph)


def _routed_tokens(experts: GroupedExperts, tokens: int, top_k: int = 2):
    generator = torch.Generator().manual_seed(1)
    hidden = torch.randn(tokens, experts.gate_up_proj.shape[1], generator=generator)
    top, indices = torch.randn(tokens, experts.num_experts, generator=generator).topk(top_k, dim=-1)
    return hidden, indices, top.softmax(-1)


@pytest.fixture()
def tiny_experts(tiny_model) -> GroupedExperts:
    experts = tiny_model.model.layers[1].mlp.experts
    return GroupedExperts(experts.gate_up_proj, experts.gate_up_proj_bias, experts.down_proj, experts.down_proj_bias,
                          experts.alpha, experts.limit)


def test_torch_dequantization_equals_bitsandbytes_bit_for_bit():
    import bitsandbytes.functional as functional

    weight = torch.randn(300, 1000, generator=torch.Generator().manual_seed(0))  # blocks of scales left over
    for double_quant in (True, False):
        codes, state = functional.quantize_4bit(weight, blocksize=64, compress_statistics=double_quant,
                                                quant_type="nf4")
        assert torch.equal(dequantize_with_torch(codes, state), functional.dequantize_4bit(codes, state))


CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="bitsandbytes' CUDA kernel path needs CUDA")


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=CUDA)])
@pytest.mark.parametrize("double_quant", [True, False])
@pytest.mark.parametrize("shape", [(64, 128), (30, 100)], ids=["whole-blocks", "blocks-left-over"])
def test_stacked_dequantization_equals_bitsandbytes_per_weight_bit_for_bit(shape, double_quant, device):
    import bitsandbytes.functional as functional

    scales = torch.tensor([1.0, 5.0, 0.1])[:, None, None]
    weights = (torch.randn(3, *shape, generator=torch.Generator().manual_seed(0)) * scales).to(device)
    quantized = [functional.quantize_4bit(weight, blocksize=64, compress_statistics=double_quant, quant_type="nf4")
                 for weight in weights]
    states = [state for _, state in quantized]
    nested = (torch.stack([state.state2.absmax for state in states]), torch.stack([state.offset for state in states]),
              states[0].state2.code) if double_quant else None
    stacked = dequantize_stacked(torch.stack([codes.view(-1) for codes, _ in quantized]),
                                 torch.stack([state.absmax for state in states]), shape,
                                 FourBitFormat(double_quant=double_quant), states[0].code, nested)
    assert torch.equal(stacked, torch.stack([functional.dequantize_4bit(codes, state) for codes, state in quantized]))


def test_nf4_experts_computed_layer_at_once_have_the_numbers_of_the_per_expert_loop(tiny_experts):
    quantized = NF4Experts.quantize(tiny_experts, FourBitFormat())
    hidden, indices, weights = _routed_tokens(tiny_experts, tokens=29)
    lhs, rhs = (torch.randn(quantized.num_experts, *shape, generator=torch.Generator().manual_seed(3)) * 0.1
                for shape in ((64, 4), (4, tiny_experts.gate_up_proj.shape[-1])))
    for lora_factors in ({}, {"gate_up_proj": (lhs, rhs, 2.0)}):
        quantized.lora_factors = lora_factors
        per_expert = quantized.forward_per_expert(hidden, indices, weights)
        layer_at_once = quantized.forward_layer_at_once(hidden, indices, weights)
        torch.testing.assert_close(layer_at_once, per_expert, atol=1e-5, rtol=1e-5)
    assert (layer_at_once - quantized.dequantized()(hidden, indices, weights)).abs().max() > 1e-4, "LoRA did apply"


def test_nf4_experts_equal_grouped_experts_on_their_dequantized_weights_with_gradients(tiny_experts):
    quantized = NF4Experts.quantize(tiny_experts, FourBitFormat())
    reference = quantized.dequantized()
    assert (reference.gate_up_proj - tiny_experts.gate_up_proj).abs().max() > 1e-3, "the weights did change"
    hidden, indices, weights = _routed_tokens(tiny_experts, tokens=29)
    outputs, leaves = [], []
    for experts in (quantized, reference):
        leaves.append((hidden.clone().requires_grad_(), weights.clone().requires_grad_()))
        outputs.append(experts(leaves[-1][0], indices, leaves[-1][1]))
        outputs[-1].square().sum().backward()
    torch.testing.assert_close(outputs[0], outputs[1], atol=1e-5, rtol=1e-5)
    for ours, theirs in zip(leaves[0], leaves[1], strict=True):
        torch.testing.assert_close(ours.grad, theirs.grad, atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("training", [True, False])
def test_nf4_linear_equals_linear_on_its_dequantized_weight(tiny_model, training):
    quantized = NF4Linear.quantize(tiny_model.model.layers[0].self_attn.q_proj, FourBitFormat()).train(training)
    inputs = torch.randn(7, quantized.in_features)
    torch.testing.assert_close(quantized(inputs), quantized.dequantized()(inputs), atol=1e-6, rtol=1e-6)


@pytest.fixture(scope="module")
def nf4_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("nf4") / "tiny-nf4"
    assert main(["build", "--preset", "tiny", "--quantize", "nf4", "--out", str(out)]) == 0
    return out


def test_the_nf4_build_checks_against_eager_on_its_dequantized_weights(nf4_checkpoint, capsys):
    assert main(["check", str(nf4_checkpoint)]) == 0
    printed = capsys.readouterr().out
    assert "PASS" in printed and "against the original weights the error is" in printed


def _expert_bytes(directory) -> int:
    total = 0
    for path in directory.glob("*.safetensors"):
        tensors = read_tensor_file(path)
        total += sum(tensor.nbytes for name, tensor in tensors.items() if ".mlp.experts." in name)
    return total


def test_experts_take_under_three_tenths_of_their_full_precision_bytes(nf4_checkpoint, full_checkpoint):
    ratio = _expert_bytes(nf4_checkpoint) / _expert_bytes(full_checkpoint)
    print(f"experts: nf4 / full precision bytes = {ratio:.3f}")
    assert ratio <= 0.3


def test_the_manifest_says_how_it_was_quantized(nf4_checkpoint):
    quantization = json.loads((nf4_checkpoint / "manifest.json").read_text())["quantization"]
    assert quantization["method"] == "bitsandbytes-4bit"
    assert quantization["format"] == {"quant_type": "nf4", "blocksize": 64, "double_quant": True,
                                      "compute_dtype": "float32"}
    assert "model.layers.3.mlp.experts" in quantization["modules"] and len(quantization["modules"]) == 20


def test_load_restores_the_4bit_state_without_quantizing_again(nf4_checkpoint, monkeypatch):
    import bitsandbytes.functional as functional

    def refuse(*args, **kwargs):
        raise AssertionError("load quantized again")

    monkeypatch.setattr(functional, "quantize_4bit", refuse)
    model = load(nf4_checkpoint)
    assert isinstance(model.graph_module.get_submodule("model.layers.0.mlp.experts"), NF4Experts)
    assert isinstance(model.graph_module.get_submodule("model.layers.0.self_attn.q_proj"), NF4Linear)
    assert torch.isfinite(model(torch.randint(3, 512, (2, 9)))).all()


def test_an_unknown_quantize_value_is_refused_with_the_known_ones(tmp_path, capsys):
    assert main(["build", "--preset", "tiny", "--quantize", "int3", "--out", str(tmp_path / "out")]) == 2
    assert "unknown quantization 'int3': --quantize takes nf4" in capsys.readouterr().err


def test_a_checkpoint_quantized_in_a_method_we_cannot_read_is_refused(nf4_checkpoint, tmp_path):
    copy = scratch_copy(nf4_checkpoint, tmp_path)
    edit_json(copy / "manifest.json", lambda manifest: manifest["quantization"].update(method="gptq"))
    with pytest.raises(QuantizationError,
                       match="quantized with 'gptq', which this gpt-oss-rewrite cannot read.*rebuild"):
        load(copy)


def test_missing_bitsandbytes_is_reported_with_how_to_install_it(nf4_checkpoint, monkeypatch):
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # makes `import bitsandbytes` fail
    monkeypatch.delitem(sys.modules, "runtime.ops.nf4_linear")
    with pytest.raises(QuantizationError, match=r"need bitsandbytes.*pip install bitsandbytes"):
        load(nf4_checkpoint)
