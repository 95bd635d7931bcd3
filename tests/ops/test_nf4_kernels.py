"""The 4-bit decode kernels: on bitsandbytes-quantized experts they compute what the float32 experts compute on the
dequantized weights, they are custom ops that torch.compile takes whole, and compiled `NF4Experts` decoding calls
them instead of dequantizing the layer.

Each check runs on CUDA when there is one, else on CPU tensors in Triton's interpreter (in a subprocess, since
TRITON_INTERPRET is read when the kernels are defined); the interpreter has no bfloat16, so float32 and float16."""

import importlib.util
import os
import subprocess
import sys
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

import pytest
import torch

pytest.importorskip("triton", reason="the kernels are Triton kernels (CPU: its interpreter)")
pytest.importorskip("bitsandbytes", reason="the experts are quantized by bitsandbytes")

from runtime.ops import nf4_experts, nf4_kernels  # noqa: E402
from runtime.ops.expert_kernels import BLOCK_M  # noqa: E402
from runtime.ops.four_bit import FourBitFormat  # noqa: E402
from runtime.ops.grouped_experts import GroupedExperts, clamped_swiglu, expert_slots  # noqa: E402
from runtime.ops.nf4_experts import NF4Experts  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[2]
ALPHA, LIMIT = 1.702, 7.0
# (experts, top_k, tokens, hidden, intermediate, blocksize, double_quant, compute dtype): 30 tokens give an expert
# more than BLOCK_M pairs; 128 x 192 gate_up has 384 blocks of 64, so two nested absmax groups
CASES = [
    (4, 2, 5, 64, 64, 64, True, "float32"),
    (4, 2, 30, 128, 96, 64, True, "float16"),
    (4, 2, 7, 128, 128, 128, False, "float32"),
    (4, 1, 3, 64, 128, 256, True, "float16"),
]
# float32 products run in tf32 on CUDA (Triton's default for a float32 dot)
TOLERANCE = {"float32": 2e-3 if torch.cuda.is_available() else 1e-5, "float16": 2e-3}


def _device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def _quantized(case) -> tuple[NF4Experts, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random experts quantized as `quantize_nf4` does, and routed hidden states in the compute dtype."""
    num_experts, top_k, tokens, hidden, intermediate, blocksize, double_quant, dtype = case
    generator = torch.Generator().manual_seed(0)

    def normal(*shape):
        return torch.randn(*shape, generator=generator) * 0.2

    weights = (normal(num_experts, hidden, 2 * intermediate), normal(num_experts, 2 * intermediate),
               normal(num_experts, intermediate, hidden), normal(num_experts, hidden))
    experts = GroupedExperts(*(weight.to(getattr(torch, dtype)) for weight in weights), ALPHA, LIMIT)
    four_bit_format = FourBitFormat(blocksize=blocksize, double_quant=double_quant, compute_dtype=dtype)
    quantized = NF4Experts.quantize(experts, four_bit_format).to(_device())
    hidden_states = torch.randn(tokens, hidden, generator=generator)
    indices = torch.stack([torch.randperm(num_experts, generator=generator)[:top_k] for _ in range(tokens)])
    weights = torch.softmax(torch.randn(tokens, top_k, generator=generator), -1)
    to = {"device": _device(), "dtype": getattr(torch, dtype)}
    return quantized, hidden_states.to(**to), indices.to(_device()), weights.to(**to)


def _float32_weights(quantized: NF4Experts) -> list[torch.Tensor]:
    """gate_up, gate_up bias, down, down bias: the dequantized weights (compute dtype) and biases in float32."""
    weights = quantized.dequantized()
    return [tensor.detach().float() for tensor in (weights.gate_up_proj, weights.gate_up_proj_bias,
                                                     weights.down_proj, weights.down_proj_bias)]


def _scaled_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return ((actual.float() - expected).abs().max() / expected.abs().max().clamp(min=1)).item()


def _layout(indices: torch.Tensor, num_experts: int):
    """slot_pair, block_expert, and each slot's (valid, pair, token, expert) as the kernels read them."""
    slot_pair, block_expert = expert_slots(indices, num_experts, BLOCK_M)
    num_pairs, top_k = indices.numel(), indices.shape[1]
    valid = slot_pair < num_pairs
    pair = slot_pair.clamp(max=num_pairs - 1)
    return slot_pair, block_expert, valid, pair, pair // top_k, indices.reshape(-1)[pair]


def check_gate_up(case) -> None:
    quantized, hidden_states, indices, _ = _quantized(case)
    gate_up, gate_up_bias, _, _ = _float32_weights(quantized)
    slot_pair, block_expert, valid, _, token, expert = _layout(indices, case[0])
    packed = quantized.packed("gate_up_proj")
    actual = nf4_kernels.nf4_gate_up_activation(
        hidden_states, *packed.quantization_tensors(), packed.blocksize, quantized.gate_up_proj_bias,
        slot_pair, block_expert, indices.shape[1], ALPHA, LIMIT)
    products = torch.einsum("sh,sho->so", hidden_states.float()[token], gate_up[expert]) + gate_up_bias[expert]
    expected = clamped_swiglu(products, ALPHA, LIMIT)
    assert actual.shape == (slot_pair.numel(), case[4]) and actual.dtype == hidden_states.dtype
    error = _scaled_error(actual[valid], expected[valid])
    assert error < TOLERANCE[case[-1]], (case, error)


def check_down(case) -> None:
    quantized, _, indices, weights = _quantized(case)
    _, _, down, down_bias = _float32_weights(quantized)
    slot_pair, block_expert, valid, pair, _, expert = _layout(indices, case[0])
    activated = torch.randn(slot_pair.numel(), case[4], generator=torch.Generator().manual_seed(2))
    activated = activated.to(device=_device(), dtype=weights.dtype)
    packed = quantized.packed("down_proj")
    actual = nf4_kernels.nf4_down_weighted(
        activated, *packed.quantization_tensors(), packed.blocksize, quantized.down_proj_bias, weights,
        slot_pair, block_expert)
    products = torch.einsum("si,sih->sh", activated.float(), down[expert]) + down_bias[expert]
    expected = torch.zeros(indices.numel(), case[3], device=_device())
    expected[pair[valid]] = (products * weights.reshape(-1).float()[pair][:, None])[valid]
    assert actual.shape == expected.shape and actual.dtype == torch.float32
    error = _scaled_error(actual, expected)
    assert error < TOLERANCE[case[-1]], (case, error)


def check_compiled_nf4_experts_decode_without_dequantizing(case) -> None:
    """A compiled no-grad call of NF4Experts (a decode step) equals the float32 experts on the dequantized weights
    and never dequantizes the layer. On CPU the kernels are made to apply, which they do only on CUDA."""
    quantized, hidden_states, indices, weights = _quantized(case)
    expected = GroupedExperts(*_float32_weights(quantized), ALPHA, LIMIT)(hidden_states.float(), indices,
                                                                           weights.float())
    backend = "inductor" if hidden_states.is_cuda else "aot_eager"
    applies = nullcontext() if hidden_states.is_cuda else mock.patch.object(nf4_kernels, "nf4_kernels_apply", _always)
    with torch.no_grad(), mock.patch.object(nf4_experts, "dequantize_stacked", _refuse_to_dequantize), applies:
        actual = torch.compile(quantized, backend=backend, fullgraph=True)(hidden_states, indices, weights)
    error = _scaled_error(actual, expected)
    assert error < TOLERANCE[case[-1]], (case, error)


def _always(*arguments) -> bool:
    return True


def _refuse_to_dequantize(*arguments):
    raise AssertionError("the compiled decode call dequantized the layer")


def check_opcheck(case) -> None:
    """torch.library.opcheck: schema, fake (meta) implementations and dispatch of both ops, for inference (no
    autograd formula: the biases are detached)."""
    quantized, hidden_states, indices, weights = _quantized(case)
    quantized.requires_grad_(False)
    slot_pair, block_expert = expert_slots(indices, case[0], BLOCK_M)
    gate_up, down = quantized.packed("gate_up_proj"), quantized.packed("down_proj")
    gate_up_arguments = (hidden_states, *gate_up.quantization_tensors(), gate_up.blocksize,
                         quantized.gate_up_proj_bias, slot_pair, block_expert, indices.shape[1], ALPHA, LIMIT)
    # padding slots are left unwritten (as in expert_kernels), so two calls' whole outputs are not compared
    torch.library.opcheck(nf4_kernels.nf4_gate_up_activation, gate_up_arguments,
                          test_utils=("test_schema", "test_autograd_registration", "test_faketensor"))
    activated = nf4_kernels.nf4_gate_up_activation(*gate_up_arguments)
    torch.library.opcheck(nf4_kernels.nf4_down_weighted, (
        activated, *down.quantization_tensors(), down.blocksize, quantized.down_proj_bias, weights,
        slot_pair, block_expert))


def run_checks(name: str, cases: list) -> None:
    for case in cases:
        globals()[name](case)
    print("ok")


def _run(name: str, cases: list) -> None:
    """`name(case)` for each case: here on CUDA, else in a subprocess in Triton's interpreter."""
    if torch.cuda.is_available():
        run_checks(name, cases)
        return
    result = subprocess.run(
        [sys.executable, "-c", f"from tests.ops.test_nf4_kernels import run_checks; run_checks({name!r}, {cases!r})"],
        capture_output=True, text=True, cwd=REPOSITORY, env={**os.environ, "TRITON_INTERPRET": "1"}, timeout=600)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]


INTERPRETER_OR_CUDA = pytest.mark.skipif(
    not torch.cuda.is_available() and importlib.util.find_spec("triton") is None,
    reason="needs CUDA or Triton's interpreter")


@INTERPRETER_OR_CUDA
def test_gate_up_activation_is_the_clamped_swiglu_of_the_dequantized_product():
    _run("check_gate_up", CASES)


@INTERPRETER_OR_CUDA
def test_down_weighted_is_the_weighted_dequantized_product_at_each_pair():
    _run("check_down", CASES)


@INTERPRETER_OR_CUDA
def test_compiled_decoding_of_nf4_experts_takes_the_kernels_and_never_dequantizes_the_layer():
    _run("check_compiled_nf4_experts_decode_without_dequantizing", CASES[1:2])


@INTERPRETER_OR_CUDA
def test_the_kernels_are_custom_ops_that_pass_opcheck():
    _run("check_opcheck", CASES[:1])


def test_a_tile_is_whole_bytes_of_a_row_inside_one_block():
    assert nf4_kernels.tile_bytes(5760, 64) == 32, "gpt-oss-20b gate_up: 2880 bytes a row, blocks of 32 bytes"
    assert nf4_kernels.tile_bytes(2880, 64) == 32
    assert nf4_kernels.tile_bytes(2880, 256) == 32, "1440 bytes a row: 32 divides it, 64 does not"
    assert nf4_kernels.tile_bytes(256, 4096) == nf4_kernels.MAX_TILE_BYTES
    assert nf4_kernels.tile_bytes(48, 64) is None, "24 bytes a row: no tile of 16 or more bytes divides it"
    assert nf4_kernels.tile_bytes(65, 64) is None, "rows of an odd number of values share bytes"


def test_the_kernels_serve_cuda_inference_in_16_bit_only():
    quantized, hidden_states, indices, _ = _quantized(CASES[0])
    gate_up, down = quantized.packed("gate_up_proj"), quantized.packed("down_proj")
    assert quantized.packed("gate_up_proj").dtype == torch.float32
    assert not nf4_kernels.nf4_kernels_apply(hidden_states, indices, gate_up, down), "float32 (and CPU) dequantize"
    if torch.cuda.is_available():
        half = NF4Experts.quantize(quantized.dequantized(), FourBitFormat(compute_dtype="bfloat16")).cuda()
        gate_up, down = half.packed("gate_up_proj"), half.packed("down_proj")
        hidden_states = hidden_states.bfloat16()
        with torch.no_grad():
            assert nf4_kernels.nf4_kernels_apply(hidden_states, indices, gate_up, down)
        assert not nf4_kernels.nf4_kernels_apply(hidden_states, indices, gate_up, down), "gradients: grouped_mm"
