"""MXFP4Experts: a drop-in for GroupedExperts that keeps the released MXFP4 bits, computes GroupedExperts' numbers
on the dequantized weights (forward, backward, LoRA through peft), keeps no dequantized expert for its backward,
round-trips through its checkpoint state, and sends each call to the path its device and mode call for."""

import pytest
import torch
from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
from torch._subclasses.fake_tensor import FakeTensorMode
from transformers.integrations.mxfp4 import convert_moe_packed_tensors

from rewrite.errors import QuantizationError
from runtime.ops import mxfp4_experts
from runtime.ops.grouped_experts import GroupedExperts
from runtime.ops.mxfp4_experts import ExpertPath, MXFP4Experts, expert_path
from runtime.ops.nf4_experts import PARAMETER_ORDER
from runtime.ops.nf4_experts_lora import register_with
from tests.ops import mxfp4_reference_kernels

EXPERTS, HIDDEN, INTERMEDIATE, TOKENS, TOP_K = 4, 64, 64, 37, 2
EXPERT_TENSORS = ["experts.gate_up_proj", "experts.down_proj"]


@pytest.fixture
def grouped() -> GroupedExperts:
    generator = torch.Generator().manual_seed(0)

    def draw(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator) * 0.1

    return GroupedExperts(draw(EXPERTS, HIDDEN, 2 * INTERMEDIATE), draw(EXPERTS, 2 * INTERMEDIATE),
                          draw(EXPERTS, INTERMEDIATE, HIDDEN), draw(EXPERTS, HIDDEN), alpha=1.702, limit=7.0)


@pytest.fixture
def quantized(grouped) -> MXFP4Experts:
    return MXFP4Experts.from_grouped(grouped)


def _routed_tokens(seed: int = 1):
    """hidden [T, H] (requires grad), router_indices [T, k], routing_weights [T, k]."""
    generator = torch.Generator().manual_seed(seed)
    hidden = torch.randn(TOKENS, HIDDEN, generator=generator).requires_grad_()
    top, indices = torch.randn(TOKENS, EXPERTS, generator=generator).topk(TOP_K, dim=-1)
    return hidden, indices, top.softmax(-1)


def _output_and_hidden_grad(experts: torch.nn.Module, tokens) -> tuple[torch.Tensor, torch.Tensor]:
    output = experts(*tokens)
    (grad,) = torch.autograd.grad(output.square().sum(), tokens[0])
    return output.detach(), grad


def test_it_stores_the_packed_bits_under_transformers_names_and_order(quantized):
    assert [name for name, _ in quantized.named_parameters()] == list(PARAMETER_ORDER)
    assert quantized.gate_up_proj.shape == (EXPERTS, 2 * INTERMEDIATE, HIDDEN // 32, 16)
    assert quantized.down_proj.shape == (EXPERTS, HIDDEN, INTERMEDIATE // 32, 16)
    assert quantized.gate_up_proj.dtype == quantized.down_proj.dtype == torch.uint8
    assert not quantized.gate_up_proj.requires_grad and not quantized.down_proj.requires_grad
    scales = dict(quantized.named_buffers())
    assert scales.keys() == {"gate_up_proj_scales", "down_proj_scales"}
    assert scales["down_proj_scales"].shape == (EXPERTS, HIDDEN, INTERMEDIATE // 32)
    assert quantized.gate_up_proj_bias.dtype == torch.float32 and quantized.shapes["gate_up_proj"] == (64, 128)


def test_its_dequantized_weights_are_transformers_dequantization_of_its_bits(quantized):
    reference = quantized.dequantized()
    for name in ("gate_up_proj", "down_proj"):
        theirs = convert_moe_packed_tensors(getattr(quantized, name), getattr(quantized, f"{name}_scales"),
                                            dtype=torch.float32)
        assert torch.equal(getattr(reference, name), theirs), name


def test_it_computes_grouped_experts_outputs_and_hidden_gradients_on_the_dequantized_weights(quantized):
    tokens = _routed_tokens()
    ours, reference = (_output_and_hidden_grad(module, tokens) for module in (quantized, quantized.dequantized()))
    for mine, theirs in zip(ours, reference, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-6)


def test_its_backward_keeps_no_dequantized_expert(quantized):
    saved_shapes = []

    def keep_shape(tensor):
        saved_shapes.append(tuple(tensor.shape))
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(keep_shape, lambda tensor: tensor):
        output = quantized(*_routed_tokens())
    output.sum().backward()
    matrices = {(HIDDEN, 2 * INTERMEDIATE), (INTERMEDIATE, HIDDEN)}
    assert saved_shapes and not matrices & {shape for shape in saved_shapes for shape in (shape, shape[::-1])}


def test_released_bits_are_kept_as_they_are(quantized):
    packed = {f"{name}{suffix}": getattr(quantized, f"{name}{'' if suffix == '_blocks' else suffix}")
              for name in ("gate_up_proj", "down_proj") for suffix in ("_blocks", "_scales")}
    biases = {"gate_up_proj_bias": quantized.gate_up_proj_bias.detach(), "down_proj_bias": quantized.down_proj_bias}
    released = MXFP4Experts.from_packed(packed, biases, alpha=1.702, limit=7.0)
    assert torch.equal(released.gate_up_proj, packed["gate_up_proj_blocks"])
    assert torch.equal(released.down_proj_scales, packed["down_proj_scales"])
    with pytest.raises(QuantizationError, match="down_proj_scales are missing"):
        MXFP4Experts.from_packed({k: v for k, v in packed.items() if k != "down_proj_scales"}, biases, 1.702, 7.0)
    with pytest.raises(QuantizationError, match="do not chain"):
        MXFP4Experts.from_packed({**packed, "down_proj_blocks": packed["down_proj_blocks"][:, :32],
                                  "down_proj_scales": packed["down_proj_scales"][:, :32]},
                                 {**biases, "down_proj_bias": biases["down_proj_bias"][:, :32]}, 1.702, 7.0)
    with pytest.raises(QuantizationError, match="not MXFP4 experts"):
        MXFP4Experts.from_packed({**packed, "gate_up_proj_blocks": packed["gate_up_proj_blocks"].int()}, biases,
                                 1.702, 7.0)


def test_it_round_trips_through_its_checkpoint_state(quantized):
    state = {name: tensor.clone() for name, tensor in quantized.state_dict().items()}
    rebuilt = MXFP4Experts.from_state(quantized.emitted_config(), state)
    assert rebuilt.emitted_config() == quantized.emitted_config()
    tokens = _routed_tokens()
    assert torch.equal(rebuilt(*tokens), quantized(*tokens))
    with pytest.raises(KeyError, match="missing: down_proj_scales"):
        MXFP4Experts.from_state(quantized.emitted_config(), {k: v for k, v in state.items() if k != "down_proj_scales"})
    with pytest.raises(ValueError, match="the manifest says"):
        MXFP4Experts.from_state({**quantized.emitted_config(), "num_experts": 8}, state)


def _adapted(experts: torch.nn.Module):
    """`experts` at `experts` of a small module, with peft LoRA on its two matrices (same seed, same adapter)."""
    root = torch.nn.Module()
    root.experts = experts
    torch.manual_seed(1)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=[], target_parameters=EXPERT_TENSORS, init_lora_weights=False)
    return get_peft_model(root, register_with(config))


def _lora_outputs_and_gradients(model, tokens):
    """(output, hidden's gradient, {adapter tensor: gradient}) of one call through peft's model."""
    output = model.base_model.model.experts(*tokens)
    trainable = {name: parameter for name, parameter in model.named_parameters() if parameter.requires_grad}
    grads = torch.autograd.grad(output.square().sum(), [tokens[0], *trainable.values()])
    return output.detach(), grads[0], dict(zip(trainable, grads[1:], strict=True))


def _assert_lora_matches_the_dequantized_reference(quantized, tokens):
    ours, reference = _adapted(quantized), _adapted(quantized.dequantized())
    (output, hidden_grad, grads), (ref_output, ref_hidden_grad, ref_grads) = (
        _lora_outputs_and_gradients(model, tokens) for model in (ours, reference))
    assert len(grads) == 4 and all("lora_" in name for name in grads), "only the adapters train"
    assert grads.keys() == ref_grads.keys()
    torch.testing.assert_close(output, ref_output, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(hidden_grad, ref_hidden_grad, atol=1e-5, rtol=1e-5)
    for name, grad in grads.items():
        assert grad.abs().max() > 0, f"{name} gets a gradient"
        scale = ref_grads[name].abs().max()
        torch.testing.assert_close(grad / scale, ref_grads[name] / scale, atol=1e-5, rtol=0, msg=name)
    assert get_peft_model_state_dict(ours).keys() == get_peft_model_state_dict(reference).keys(), \
        "the adapter saves under the names peft gives transformers' experts"


def test_peft_lora_on_it_has_the_outputs_and_gradients_of_peft_on_the_dequantized_experts(quantized):
    _assert_lora_matches_the_dequantized_reference(quantized, _routed_tokens())


@pytest.fixture
def reference_kernels(monkeypatch):
    """The kernel modules replaced by the torch statement of their contracts; `use(path)` sends every call there."""
    monkeypatch.setattr(mxfp4_experts, "mxfp4_kernels", mxfp4_reference_kernels)
    monkeypatch.setattr(mxfp4_experts, "mxfp4_grouped_gemm", mxfp4_reference_kernels)
    return lambda path: monkeypatch.setattr(mxfp4_experts, "expert_path", lambda *args: path)


@pytest.mark.parametrize("grouped_mm", [True, False], ids=["lora-by-grouped-mm", "lora-by-expert"])
def test_the_grouped_kernel_path_computes_the_torch_paths_numbers_with_lora(quantized, reference_kernels,
                                                                            monkeypatch, grouped_mm):
    tokens = _routed_tokens()
    expected = _output_and_hidden_grad(quantized, tokens)
    reference_kernels(ExpertPath.GROUPED_KERNEL)
    monkeypatch.setattr(mxfp4_experts, "grouped_mm_applies", lambda *args: grouped_mm)
    for mine, theirs in zip(_output_and_hidden_grad(quantized, tokens), expected, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-6, rtol=1e-6)
    _assert_lora_matches_the_dequantized_reference(quantized, tokens)


def test_the_decode_kernel_path_computes_the_torch_paths_numbers(quantized, reference_kernels):
    tokens = _routed_tokens()
    with torch.no_grad():
        expected = quantized(*tokens)
        reference_kernels(ExpertPath.DECODE_KERNELS)
        torch.testing.assert_close(quantized(*tokens), expected, atol=1e-6, rtol=1e-6)


def test_each_call_takes_the_path_its_device_mode_and_size_call_for(quantized, monkeypatch):
    monkeypatch.setattr(mxfp4_experts, "mxfp4_kernels", mxfp4_reference_kernels)
    quantized.to(torch.bfloat16)
    few, many = torch.zeros(8, TOP_K, dtype=torch.long), torch.zeros(64, TOP_K, dtype=torch.long)
    with FakeTensorMode(allow_non_fake_inputs=True):
        on_cuda = torch.empty(8, HIDDEN, dtype=torch.bfloat16, device="cuda")
        on_cuda_float32 = torch.empty(8, HIDDEN, device="cuda")
    on_cpu = torch.empty(8, HIDDEN, dtype=torch.bfloat16)
    with torch.no_grad():
        assert expert_path(on_cuda, few, quantized) is ExpertPath.DECODE_KERNELS
        assert expert_path(on_cuda, many, quantized) is ExpertPath.GROUPED_KERNEL, "prefill"
        assert expert_path(on_cpu, few, quantized) is ExpertPath.TORCH
        assert expert_path(on_cuda_float32, few, quantized) is ExpertPath.TORCH, "dtype differs from the biases'"
        quantized.lora_factors["down_proj"] = None
        assert expert_path(on_cuda, few, quantized) is ExpertPath.GROUPED_KERNEL, "the decode kernels have no LoRA"
        quantized.lora_factors.clear()
    assert expert_path(on_cuda, few, quantized) is ExpertPath.GROUPED_KERNEL, "only it has a backward"
    monkeypatch.setattr(mxfp4_experts, "mxfp4_kernels", None)
    assert expert_path(on_cuda, few, quantized) is ExpertPath.TORCH, "installs without triton"
