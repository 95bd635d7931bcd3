"""The decode experts path: expert-sorted padded slots, and the Triton kernels equal to transformers' eager experts."""

import importlib.util
import os
import subprocess
import sys

import pytest
import torch
from transformers import GptOssConfig
from transformers.models.gpt_oss.modeling_gpt_oss import GptOssExperts

from runtime.ops.grouped_experts import GroupedExperts, expert_slots, kernels_apply


def test_slots_hold_every_pair_once_in_blocks_of_one_expert():
    router_indices = torch.tensor([[3, 0], [0, 1], [3, 1], [0, 3], [1, 0]])
    slot_pair, block_expert = expert_slots(router_indices, num_experts=5, block_m=4)
    num_pairs = router_indices.numel()
    assert sorted(slot_pair[slot_pair < num_pairs].tolist()) == list(range(num_pairs))
    flat = router_indices.reshape(-1)
    for block, expert in enumerate(block_expert.tolist()):
        pairs = slot_pair[block * 4 : (block + 1) * 4]
        pairs = pairs[pairs < num_pairs]
        if expert < 0:
            assert pairs.numel() == 0, "blocks past the used slots are empty"
        else:
            assert (flat[pairs] == expert).all(), f"block {block} holds pairs of expert {expert} only"
    assert block_expert.tolist()[:3] == [0, 1, 3], "experts 0, 1 and 3 have 4, 2 and 4 pairs: one block each"
    assert (block_expert[3:] == -1).all()


def test_kernels_are_for_cuda_inference_only():
    weight = torch.zeros(4, 8, 16, dtype=torch.bfloat16)
    hidden = torch.zeros(2, 8, dtype=torch.bfloat16)
    assert not kernels_apply(hidden, torch.zeros(2, 2, dtype=torch.long), weight), "CPU tensors take grouped_mm"


def _experts(num_experts, top_k, hidden_size, intermediate_size, device):
    config = GptOssConfig(hidden_size=hidden_size, intermediate_size=intermediate_size,
                          num_local_experts=num_experts, num_experts_per_tok=top_k)
    config._experts_implementation = "eager"
    torch.manual_seed(0)
    reference = GptOssExperts(config).to(device)
    for parameter in reference.parameters():
        torch.nn.init.normal_(parameter, std=0.2)
    return reference


def _routed(tokens, num_experts, top_k, hidden_size, device):
    hidden = torch.randn(tokens, hidden_size, device=device)
    indices = torch.stack([torch.randperm(num_experts, device=device)[:top_k] for _ in range(tokens)])
    return hidden, indices, torch.softmax(torch.randn(tokens, top_k, device=device), -1)


SHAPES = [(6, 2, 5, 64, 32), (8, 4, 3, 96, 80), (4, 2, 30, 64, 32), (32, 4, 64, 2880, 2880)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the Triton kernels run on CUDA (CPU: interpreter test)")
@pytest.mark.parametrize("shape", SHAPES)
def test_kernels_equal_transformers_eager_on_cuda(shape):
    num_experts, top_k, tokens, hidden_size, intermediate_size = shape
    reference = _experts(num_experts, top_k, hidden_size, intermediate_size, "cuda")
    hidden, indices, weights = _routed(tokens, num_experts, top_k, hidden_size, "cuda")
    parameters = (reference.gate_up_proj, reference.gate_up_proj_bias, reference.down_proj, reference.down_proj_bias)
    ours = GroupedExperts(*(p.detach().bfloat16() for p in parameters), reference.alpha, reference.limit)
    ours_float32 = GroupedExperts(*(p.detach() for p in parameters), reference.alpha, reference.limit)
    with torch.no_grad():
        expected = reference(hidden, indices, weights)
        assert kernels_apply(hidden.bfloat16(), indices, ours.gate_up_proj)
        actual = ours(hidden.bfloat16(), indices, weights.bfloat16()).float()
        looped = ours_float32(hidden, indices, weights)  # float32 on CUDA takes the expert loop
    scale = expected.abs().max().clamp(min=1)
    assert ((actual - expected).abs().max() / scale) < 2e-2
    torch.testing.assert_close(looped, expected, atol=1e-4 * scale.item(), rtol=0)


_INTERPRETER_SCRIPT = """
import torch
from tests.ops.test_expert_kernels import SHAPES, _experts, _routed
from runtime.ops.grouped_experts import kernel_forward
for num_experts, top_k, tokens, hidden_size, intermediate_size in SHAPES[:3]:
    reference = _experts(num_experts, top_k, hidden_size, intermediate_size, "cpu")
    hidden, indices, weights = _routed(tokens, num_experts, top_k, hidden_size, "cpu")
    with torch.no_grad():
        expected = reference(hidden, indices, weights)
        for dtype, tolerance in ((torch.float32, 1e-5), (torch.float16, 2e-3)):
            weights_of = [p.detach().to(dtype) for p in (reference.gate_up_proj, reference.gate_up_proj_bias,
                                                         reference.down_proj, reference.down_proj_bias)]
            actual = kernel_forward(hidden.to(dtype), indices, weights.to(dtype), *weights_of, reference.alpha,
                                    reference.limit).float()
            error = ((actual - expected).abs().max() / expected.abs().max().clamp(min=1)).item()
            assert error < tolerance, (num_experts, top_k, tokens, dtype, error)
print("ok")
"""


@pytest.mark.skipif(importlib.util.find_spec("triton") is None, reason="triton is not installed")
def test_kernels_equal_transformers_eager_in_the_triton_interpreter():
    """The interpreter runs the same kernels on CPU tensors (it has no bfloat16, so float32 and float16)."""
    result = subprocess.run([sys.executable, "-c", _INTERPRETER_SCRIPT], capture_output=True, text=True,
                            env={**os.environ, "TRITON_INTERPRET": "1"}, timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]

