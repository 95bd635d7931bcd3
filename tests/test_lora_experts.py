"""LoRA on the experts: peft's `target_parameters` on GroupedExperts and on 4-bit experts saves an adapter that
transformers' model loads with the same outputs (the 4-bit build's on its dequantized weights), and on 4-bit
experts the delta inside the op has float32-reference gradients."""

import pytest
import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict

from rewrite import build, load
from rewrite.transformers_model import transformers_model
from runtime.export import check_transformers_layout
from runtime.grpo.config import GRPOConfig
from runtime.grpo.model_setup import attach_lora
from runtime.ops.four_bit import FourBitFormat
from runtime.ops.grouped_experts import GroupedExperts
from runtime.ops.nf4_experts import NF4Experts
from runtime.ops.nf4_experts_lora import register_with
from tests.adapter_roundtrip import assert_adapter_loads_on_transformers

EXPERT_TENSORS = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]


@pytest.fixture(scope="module")
def nf4_checkpoint(tmp_path_factory):
    return build(tmp_path_factory.mktemp("nf4") / "tiny-nf4", preset="tiny", quantize="nf4")


@pytest.fixture(scope="module")
def quantized_checkpoint(request, tmp_path_factory):
    quantize = request.param
    return build(tmp_path_factory.mktemp(quantize) / f"tiny-{quantize}", preset="tiny", quantize=quantize)


def with_expert_adapter(checkpoint):
    """The build at `checkpoint` with LoRA on its expert matrices as the trainer attaches it, lora_B drawn at random
    (an adapter initialised to zero changes nothing)."""
    model = load(checkpoint)
    attach_lora(model, GRPOConfig(lora_r=4, lora_alpha=8, lora_dropout=0.0, lora_target_parameters=EXPERT_TENSORS))
    torch.manual_seed(3)
    with torch.no_grad():
        for name, parameter in model.graph_module.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.05)
    return model


def test_an_expert_adapter_trained_on_ours_loads_on_the_transformers_model(full_checkpoint, tmp_path):
    assert_adapter_loads_on_transformers(with_expert_adapter(full_checkpoint), full_checkpoint, tmp_path)


@pytest.mark.parametrize("quantized_checkpoint", ["nf4", "mxfp4"], indirect=True)
def test_an_expert_adapter_trained_on_a_4bit_build_has_the_tensor_names_and_shapes_peft_gives_transformers(
        quantized_checkpoint, tmp_path):
    with_expert_adapter(quantized_checkpoint).graph_module.save_pretrained(tmp_path)
    check_transformers_layout(tmp_path, quantized_checkpoint)  # raises, naming a tensor, when a name or shape differs


@pytest.mark.parametrize("quantized_checkpoint", ["nf4", "mxfp4"], indirect=True)
def test_an_expert_adapter_trained_on_a_4bit_build_loads_on_transformers_with_its_logits(quantized_checkpoint,
                                                                                          tmp_path):
    assert_adapter_loads_on_transformers(with_expert_adapter(quantized_checkpoint), quantized_checkpoint, tmp_path)


def _param_wrappers(model: torch.nn.Module) -> dict:
    """peft's parameter wrappers by (module path without peft's nesting, parameter name)."""
    return {(path.replace(".base_layer", ""), module.parameter_name): module for path, module in model.named_modules()
            if type(module).__name__ == "ParamWrapper"}


def test_peft_merges_into_transformers_experts_the_delta_the_nf4_op_adds(nf4_checkpoint, tmp_path):
    ours = with_expert_adapter(nf4_checkpoint)
    ours.graph_module.save_pretrained(tmp_path)
    theirs = _param_wrappers(PeftModel.from_pretrained(transformers_model(nf4_checkpoint), tmp_path))
    wrappers = _param_wrappers(ours.graph_module)
    assert wrappers.keys() == theirs.keys() and len(wrappers) == 2 * ours.spec.num_layers
    for (path, matrix), wrapper in wrappers.items():
        experts = wrapper.get_base_layer()
        with torch.no_grad(), wrapper._activate_lora(["default"]):  # as the wrapper's forward sets the factors
            applied = experts._with_lora_delta(matrix) - experts.dequantize(matrix, slice(None))
        merged = theirs[path, matrix].get_delta_weight("default")
        torch.testing.assert_close(applied, merged, atol=1e-6, rtol=1e-5, msg=f"{path}.{matrix}")


def _adapted(experts: torch.nn.Module) -> torch.nn.Module:
    """`experts` at `mlp.experts` of a wrapper, with peft LoRA on its two matrices (same seed, same adapter)."""
    root = torch.nn.Module()
    root.mlp = torch.nn.Module()
    root.mlp.experts = experts
    torch.manual_seed(1)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=[], target_parameters=EXPERT_TENSORS, init_lora_weights=False)
    return get_peft_model(root, register_with(config))


def test_lora_on_nf4_experts_has_the_gradients_of_peft_on_the_dequantized_float32_experts(tiny_model):
    layer = tiny_model.model.layers[2].mlp.experts
    full = GroupedExperts(layer.gate_up_proj, layer.gate_up_proj_bias, layer.down_proj, layer.down_proj_bias,
                          layer.alpha, layer.limit)
    quantized = NF4Experts.quantize(full, FourBitFormat())
    ours, reference = _adapted(quantized), _adapted(quantized.dequantized())
    generator = torch.Generator().manual_seed(2)
    hidden = torch.randn(37, 64, generator=generator)
    top, indices = torch.randn(37, 4, generator=generator).topk(2, dim=-1)
    outputs = [model.base_model.model.mlp.experts(hidden, indices, top.softmax(-1)) for model in (ours, reference)]
    torch.testing.assert_close(outputs[0], outputs[1], atol=1e-5, rtol=1e-5)
    for output in outputs:
        output.square().sum().backward()
    ours_state, reference_state = (dict(model.named_parameters()) for model in (ours, reference))
    trainable = [name for name, parameter in ours_state.items() if parameter.requires_grad]
    assert len(trainable) == 4 and all("lora_" in name for name in trainable), "only the adapters train"
    for name in trainable:
        scale = reference_state[name].grad.abs().max()
        torch.testing.assert_close(ours_state[name].grad / scale, reference_state[name].grad / scale,
                                   atol=1e-5, rtol=0, msg=name)
    assert get_peft_model_state_dict(ours).keys() == get_peft_model_state_dict(reference).keys(), \
        "the 4-bit adapter saves under peft's names"
