"""The MXFP4 expert kernels equal transformers' dequantization followed by float32 matmuls.

Each check runs on CUDA (bf16, the dtype the model runs in) when a GPU is there, and in the Triton interpreter
on CPU tensors when triton is installed (float32 and float16: the interpreter's tl.dot reads bf16 tensors as
their raw bits, so bf16 products are checked on CUDA only). The interpreter runs in a subprocess, since
TRITON_INTERPRET is read when the kernels are defined.
"""

import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
import torch

triton = pytest.importorskip("triton", reason="the MXFP4 kernels need triton (CUDA, or its CPU interpreter)")
import triton.language as tl  # noqa: E402
from transformers import GptOssConfig  # noqa: E402
from transformers.integrations.mxfp4 import convert_moe_packed_tensors  # noqa: E402
from transformers.models.gpt_oss.modeling_gpt_oss import GptOssExperts  # noqa: E402

from rewrite.errors import InputError  # noqa: E402
from runtime.ops import expert_kernels  # noqa: E402
from runtime.ops.grouped_experts import expert_slots  # noqa: E402
from runtime.ops.mxfp4_grouped_gemm import launch_grouped, mxfp4_grouped_matmul  # noqa: E402
from runtime.ops.mxfp4_kernels import mxfp4_down_weighted, mxfp4_gate_up_activation  # noqa: E402
from runtime.ops.mxfp4_tiles import dequantized_tile, ptx_decodes, tile_factor  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DEVICES = [
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
    pytest.param("interpreter"),
]
TOLERANCE = {torch.float32: 1e-5, torch.float16: 3e-3, torch.bfloat16: 2e-2}


INTERPRETER_DTYPES = (torch.float32, torch.float16)


def run_check(check, device: str, request: pytest.FixtureRequest) -> None:
    """`check(device, dtypes)` on CUDA in bf16, or its outcome in the Triton interpreter in float32 and float16."""
    if device == "cuda":
        check("cuda", (torch.bfloat16,))
    else:
        outcome = request.getfixturevalue("interpreter_outcomes")[check.__name__]
        assert outcome == "ok", outcome


def run_checks_in_interpreter() -> None:
    """Run every check on CPU tensors (under TRITON_INTERPRET=1) and print {check: "ok" or its traceback}."""
    outcomes = {}
    for check in CHECKS:
        try:
            check("cpu", INTERPRETER_DTYPES)
            outcomes[check.__name__] = "ok"
        except Exception:
            outcomes[check.__name__] = traceback.format_exc()
    print(json.dumps(outcomes))


@pytest.fixture(scope="module")
def interpreter_outcomes() -> dict[str, str]:
    """The checks' outcomes in one interpreter subprocess (the imports cost more than the checks)."""
    code = "from tests.ops.test_mxfp4_kernels import run_checks_in_interpreter; run_checks_in_interpreter()"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                            env={**os.environ, "TRITON_INTERPRET": "1"}, timeout=900)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def packed_experts(experts: int, rows: int, inner: int, device: str, scales=(119, 125)):
    """Random MXFP4 blocks [E, rows, inner/32, 16] (every byte value) and scales [E, rows, inner/32]."""
    generator = torch.Generator().manual_seed(rows * 7 + inner)
    blocks = torch.randint(0, 256, (experts, rows, inner // 32, 16), dtype=torch.uint8, generator=generator)
    exponents = torch.randint(*scales, (experts, rows, inner // 32), dtype=torch.uint8, generator=generator)
    return blocks.to(device), exponents.to(device)


def scaled_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    return ((actual.float() - expected.float()).abs().max() / expected.float().abs().max().clamp(min=1)).item()


@triton.jit
def _store_dequantized(blocks_ptr, scales_ptr, out_ptr, num_rows, num_groups, ROWS: tl.constexpr,
                       GROUPS: tl.constexpr, PTX: tl.constexpr):
    rows = tl.program_id(0) * ROWS + tl.arange(0, ROWS)
    first_group = tl.program_id(1) * GROUPS
    tile = dequantized_tile(blocks_ptr, scales_ptr, rows, rows < num_rows, first_group, num_groups, GROUPS,
                            out_ptr.dtype.element_ty, PTX)
    tile = (tile.to(tl.float32) * tile_factor(PTX)).to(out_ptr.dtype.element_ty)  # exact: a power of two
    columns = first_group * 32 + tl.arange(0, GROUPS * 32)
    tl.store(out_ptr + rows[:, None] * num_groups * 32 + columns[None, :], tile,
             mask=(rows < num_rows)[:, None] & (columns < num_groups * 32)[None, :])


def check_tiles_equal_transformers_dequantization_bit_for_bit(device, dtypes):
    """In float32 and bf16 (the interpreter stores bf16 right; on CUDA bf16 takes the inline-PTX decode), over every
    byte and the whole range of scales the decode keeps normal (which float16's range does not hold)."""
    blocks, scales = packed_experts(1, 40, 96, device)
    for dtype in (torch.float32, torch.bfloat16):
        out = torch.full((40, 96), float("nan"), dtype=dtype, device=device)
        ptx = ptx_decodes(out)
        lowest, highest = (66, 192) if ptx else (2, 248)
        scales[0, :, 0] = torch.linspace(lowest, highest, 40).round().to(torch.uint8)
        _store_dequantized[(3, 2)](blocks, scales, out, 40, 3, ROWS=16, GROUPS=2, PTX=ptx)
        expected = convert_moe_packed_tensors(blocks, scales, dtype=dtype)[0].T
        assert torch.equal(out, expected), dtype


def _reference_experts(gate_up, down, hidden, intermediate, device) -> GptOssExperts:
    """transformers' eager experts in float32 holding the dequantized MXFP4 weights and random biases."""
    experts = gate_up[0].shape[0]
    config = GptOssConfig(hidden_size=hidden, intermediate_size=intermediate, num_local_experts=experts)
    config._experts_implementation = "eager"
    reference = GptOssExperts(config).to(device)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        reference.gate_up_proj.copy_(convert_moe_packed_tensors(*gate_up, dtype=torch.float32))
        reference.down_proj.copy_(convert_moe_packed_tensors(*down, dtype=torch.float32))
        for bias in (reference.gate_up_proj_bias, reference.down_proj_bias):
            bias.copy_(torch.randn(bias.shape, generator=generator))
    return reference


def _routed(tokens, experts, top_k, hidden, device):
    generator = torch.Generator().manual_seed(tokens)
    x = torch.randn(tokens, hidden, generator=generator)
    indices = torch.stack([torch.randperm(experts, generator=generator)[:top_k] for _ in range(tokens)])
    weights = torch.softmax(torch.randn(tokens, top_k, generator=generator), -1)
    return x.to(device), indices.to(device), weights.to(device)


def mxfp4_decode(x, indices, routing_weights, gate_up, gate_up_bias, down, down_bias, alpha, limit):
    """[T, H] experts output through the two decode kernels, as `grouped_experts.kernel_forward` composes them."""
    slot_pair, block_expert = expert_slots(indices, gate_up[0].shape[0], expert_kernels.BLOCK_M)
    activated = mxfp4_gate_up_activation(x, *gate_up, gate_up_bias, slot_pair, block_expert, indices.shape[1],
                                         alpha, limit)
    pairs = mxfp4_down_weighted(activated, *down, down_bias, routing_weights, slot_pair, block_expert)
    return pairs.view(*indices.shape, -1).sum(1)


# (experts, top_k, tokens, hidden, intermediate): one token; several blocks of one expert; partial row tiles and
# fewer groups than one step's
DECODE_SHAPES = [(4, 2, 1, 64, 64), (4, 2, 30, 64, 64), (4, 3, 5, 96, 160)]


def check_decode_kernels_equal_transformers_experts(device, dtypes):
    for experts, top_k, tokens, hidden, intermediate in DECODE_SHAPES:
        gate_up = packed_experts(experts, 2 * intermediate, hidden, device)
        down = packed_experts(experts, hidden, intermediate, device)
        reference = _reference_experts(gate_up, down, hidden, intermediate, device)
        x, indices, weights = _routed(tokens, experts, top_k, hidden, device)
        with torch.no_grad():
            for dtype in dtypes:
                x_rounded, weights_rounded = x.to(dtype), weights.to(dtype)
                expected = reference(x_rounded.float(), indices, weights_rounded.float())
                actual = mxfp4_decode(x_rounded, indices, weights_rounded, gate_up,
                                      reference.gate_up_proj_bias.to(dtype), down, reference.down_proj_bias,
                                      reference.alpha, reference.limit)
                assert actual.dtype == torch.float32
                error = scaled_error(actual, expected)
                assert error < TOLERANCE[dtype], (experts, top_k, tokens, hidden, intermediate, dtype, error)


def _sorted_rows(rows_per_expert, inner, dtype, device):
    """x sorted by expert with `rows_per_expert[e]` rows each, the int32 offsets, and each row's expert."""
    expert_of_row = torch.repeat_interleave(torch.arange(len(rows_per_expert)), torch.tensor(rows_per_expert))
    x = torch.randn(len(expert_of_row), inner, generator=torch.Generator().manual_seed(inner)).to(device, dtype)
    offsets = torch.tensor(rows_per_expert).cumsum(0).to(device, torch.int32)
    return x, offsets, expert_of_row.to(device)


def _per_row_product(x, weights, expert_of_row):
    """Row r of x times weights[expert of r] ([E, inner, out]), in float32."""
    return torch.einsum("ri,rio->ro", x.float(), weights[expert_of_row])


# experts with no rows, with fewer rows than a tile, and with rows running over several tiles
ROWS_PER_EXPERT = [0, 21, 5, 0, 16, 40]
SMALL_TILES = {"BLOCK_M": 16, "BLOCK_N": 32, "BLOCK_K": 32, "num_warps": 4, "num_stages": 2}


def check_grouped_matmul_and_its_input_grad_equal_dequantized_products(device, dtypes):
    blocks, scales = packed_experts(len(ROWS_PER_EXPERT), 96, 160, device)  # W [E, out 96, in 160]
    weight = convert_moe_packed_tensors(blocks, scales, dtype=torch.float32)  # [E, in, out]
    for dtype in dtypes:
        x, offsets, expert_of_row = _sorted_rows(ROWS_PER_EXPERT, 160, dtype, device)
        grad = torch.randn(x.shape[0], 96, generator=torch.Generator().manual_seed(2)).to(device, dtype)
        bias = torch.randn(len(ROWS_PER_EXPERT), 96, generator=torch.Generator().manual_seed(4)).to(device, dtype)
        forward = _per_row_product(x, weight, expert_of_row)
        backward = _per_row_product(grad, weight.transpose(1, 2), expert_of_row)
        for config, row_bias in ((SMALL_TILES, None), (SMALL_TILES, bias), (None, bias)):
            if config is None:
                x_leaf = x.clone().requires_grad_()
                y = mxfp4_grouped_matmul(x_leaf, blocks, scales, offsets, row_bias)
                (y * grad).sum().backward()
                grad_x = x_leaf.grad
            else:
                y = launch_grouped(x, blocks, scales, offsets, True, config, row_bias)
                grad_x = launch_grouped(grad, blocks, scales, offsets, False, config)
            expected = forward if row_bias is None else forward + row_bias.float()[expert_of_row]
            assert y.dtype == grad_x.dtype == dtype
            assert scaled_error(y, expected) < TOLERANCE[dtype], (dtype, config)
            assert scaled_error(grad_x, backward) < TOLERANCE[dtype], (dtype, config)


def check_compiled_graphs_trace_through_the_kernels(device, dtypes):
    """fullgraph torch.compile (AOT autograd) of the decode step and of the grouped GEMM with its backward."""
    gate_up, down = packed_experts(4, 128, 64, device), packed_experts(4, 64, 64, device)
    bias = torch.zeros(4, 128, device=device)
    x, indices, weights = _routed(3, 4, 2, 64, device)
    offsets = torch.tensor([2, 2, 5, 6], dtype=torch.int32, device=device)

    def loss(x_sorted):
        return mxfp4_grouped_matmul(x_sorted, *gate_up, offsets).float().square().sum()

    for dtype in dtypes:
        args = (x.to(dtype), indices, weights.to(dtype), gate_up, bias, down, bias[:, :64], 1.702, 7.0)
        compiled = torch.compile(mxfp4_decode, backend="aot_eager", fullgraph=True)
        with torch.no_grad():
            assert torch.equal(compiled(*args), mxfp4_decode(*args))
        gradients = []
        for function in (torch.compile(loss, backend="aot_eager", fullgraph=True), loss):
            x_sorted = torch.randn(6, 64, generator=torch.Generator().manual_seed(3)).to(device, dtype)
            function(x_sorted.requires_grad_()).backward()
            gradients.append(x_sorted.grad)
        assert torch.equal(*gradients)


CHECKS = [
    check_tiles_equal_transformers_dequantization_bit_for_bit,
    check_decode_kernels_equal_transformers_experts,
    check_grouped_matmul_and_its_input_grad_equal_dequantized_products,
    check_compiled_graphs_trace_through_the_kernels,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
@pytest.mark.parametrize("device", DEVICES)
def test_the_kernels_hold(device, check, request):
    """Each check: MXFP4 tiles bit for bit as transformers dequantizes them, the decode kernels as transformers'
    eager experts, the grouped matmul and its input gradient as dequantize-then-matmul, and torch.compile tracing
    through the ops."""
    run_check(check, device, request)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="gpt-oss-20b's shapes on CUDA")
def test_decode_kernels_at_gpt_oss_20b_shapes_equal_transformers_experts():
    experts, top_k, tokens, hidden = 32, 4, 64, 2880
    gate_up = packed_experts(experts, 2 * hidden, hidden, "cuda")
    down = packed_experts(experts, hidden, hidden, "cuda")
    reference = _reference_experts(gate_up, down, hidden, hidden, "cuda")
    x, indices, weights = _routed(tokens, experts, top_k, hidden, "cuda")
    with torch.no_grad():
        expected = reference(x.bfloat16().float(), indices, weights)
        actual = mxfp4_decode(x.bfloat16(), indices, weights.bfloat16(), gate_up,
                              reference.gate_up_proj_bias.bfloat16(), down, reference.down_proj_bias.bfloat16(),
                              reference.alpha, reference.limit)
    assert scaled_error(actual, expected) < TOLERANCE[torch.bfloat16]


def test_packed_weights_that_do_not_fit_the_activations_are_refused_with_what_to_pass():
    gate_up = packed_experts(2, 64, 64, "cpu")
    slot_pair, block_expert = expert_slots(torch.zeros(1, 1, dtype=torch.long), 2, expert_kernels.BLOCK_M)
    with pytest.raises(InputError, match=r"blocks \[E, out, 3, 16\].*\*_blocks and \*_scales"):
        mxfp4_gate_up_activation(torch.zeros(1, 96), *gate_up, torch.zeros(2, 64), slot_pair, block_expert, 1,
                                 1.702, 7.0)
    with pytest.raises(InputError, match="contiguous"):
        mxfp4_grouped_matmul(torch.zeros(4, 64), gate_up[0].transpose(0, 1).contiguous().transpose(0, 1),
                             gate_up[1], torch.tensor([4, 4], dtype=torch.int32))
