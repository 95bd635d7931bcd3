"""LoRA on the experts: peft's `target_parameters` on GroupedExperts saves an adapter that transformers' model loads
with the same outputs, and on 4-bit experts the delta inside the op has float32-reference gradients."""

import torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict

from rewrite import load
from runtime.grpo.config import GRPOConfig
from runtime.grpo.model_setup import attach_lora
from runtime.ops.four_bit import FourBitFormat
from runtime.ops.grouped_experts import GroupedExperts
from runtime.ops.nf4_experts import NF4Experts
from runtime.ops.nf4_experts_lora import register_with
from tests.adapter_roundtrip import assert_adapter_loads_on_transformers

EXPERT_TENSORS = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]


def test_an_expert_adapter_trained_on_ours_loads_on_the_transformers_model(full_checkpoint, tmp_path):
    model = load(full_checkpoint)
    config = GRPOConfig(lora_r=4, lora_alpha=8, lora_dropout=0.0, lora_target_parameters=EXPERT_TENSORS)
    attach_lora(model, config)
    with torch.no_grad():  # an adapter initialised to zero changes nothing; give it weights
        for name, parameter in model.graph_module.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.05)
    assert_adapter_loads_on_transformers(model, full_checkpoint, tmp_path)


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
